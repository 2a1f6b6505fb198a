import type { Server } from 'node:http';
/** A static server of `base` (default: the repository root) with COOP/COEP headers; not listening yet. */
export function createDemoServer(base?: string): Server;
