/**
 * Upper bounds on every size that crosses into a backend: the RK_MAX_* limits of
 * native/include/rnnkit.h. TypeScript checks them before anything is allocated (so a
 * hostile config.json or argument gets a RangeError, never an out-of-memory abort); C
 * checks them again because they protect its memory; each compiled backend compares these
 * values with the ones its module was built with when it loads (`Abi.fromDescription` in
 * abi/abi.ts, against `EXPECTED_LIMITS` of abi/schema.ts).
 */
export const LIMITS = {
  /** Stacked layers. */
  RK_MAX_LAYERS: 1024,
  /** Any one width: input, hidden, output, vocab, embedding dim, dense size, outputs, condition. */
  RK_MAX_WIDTH: 16_777_216,
  /** Floats in one stack's or one model's parameter array (1 GiB; gradients and optimizer state are as large again). */
  RK_MAX_PARAMS: 268_435_456,
  /** Elements of any one array of a call (x, y, states, tokens, targets, outputs), and steps × batch. */
  RK_MAX_ELEMENTS: 2_147_483_647,
  /** Threads of the compute calls (the threaded wasm module has room for 256; see MAX_WASM_THREADS). */
  RK_MAX_THREADS: 1024,
} as const;
