// The host functions the threaded module imports (native/src/threadpool.cc), declared for
// Emscripten's link step, which refuses an undefined symbol it does not know. No JavaScript
// glue is generated from this file (the module is standalone): the loader,
// src/backend/wasm/threads.ts, provides the real functions at instantiation.
mergeInto(LibraryManager.library, {
  rkw_spawn_thread: function (worker, stackTop, tls) {},
  rkw_hardware_threads: function () {},
});
