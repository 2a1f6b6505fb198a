export interface StaticServer {
  url: string;
  /** "<status> <path>" of every request, in order. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix → directory) on 127.0.0.1 at a free port; `isolated` adds the
 * COOP/COEP headers that make a page cross-origin isolated (SharedArrayBuffer).
 */
export function serveStatic(mounts: Record<string, string>, options?: { isolated?: boolean }): Promise<StaticServer>;
