// The host functions every module imports (native/src/host_math.h), declared for
// Emscripten's link step, which refuses an undefined symbol it does not know. No JavaScript
// glue is generated from this file (the module is standalone): the loader,
// src/backend/wasm/module.ts (hostImports), provides Math.pow and Math.log at instantiation.
mergeInto(LibraryManager.library, {
  rkw_pow: function (x, y) {},
  rkw_log: function (x) {},
});
