# The Node-API addon, built by node-gyp (npm install without a matching prebuild,
# `npm run build:native`, prebuildify). Every C++ source comes from native/sources.json
# through scripts/native-sources.cjs — no source is listed here by hand.
#
# Layout: the kernels' common sources (baseline flags only: the x64 binary must run on a
# CPU without AVX2) and the addon go into the `rnnkit` module; each ISA group of
# sources.json is a static library compiled with its own flags (-mavx2 -mfma, …) and
# linked into it. dispatch.cc picks the group to run at start-up (cpuid).
# Never -march=native (the build must run on other CPUs) and no -ffast-math.
#
# Built and tested: linux-x64 (Debian 12, GCC 12, glibc 2.36; the prebuild that
# `npm pack` ships, prebuilds/linux-x64/rnnkit.glibc.node, needs glibc >= 2.34 and
# libstdc++ >= GCC 12 (GLIBCXX_3.4.30) — see scripts/verify-pack.sh) and linux-arm64
# (neon), cross-compiled with Debian's g++-aarch64-linux-gnu and tested under qemu-user
# (scripts/prebuild-arm64.sh; never on arm64 hardware). The xcode_settings (macOS) and
# msvs_settings (Windows) branches have never been built: .github/workflows/prebuilds.yml
# builds them, but it has not run yet.
{
  'variables': {
    'rk_sources': 'node scripts/native-sources.cjs',
  },
  'target_defaults': {
    'include_dirs': ['<!@(<(rk_sources) include_dirs)'],
    'defines': ['<!@(<(rk_sources) defines native)'],
    # node's common.gypi builds with -fno-exceptions -fno-rtti; the C ABI catches C++
    # exceptions at every entry point and the addon uses NAPI_CPP_EXCEPTIONS.
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti'],
    # Hidden visibility: the addon exports napi_register_module_v1 and nothing else, so
    # calls between our own functions bind directly (no PLT, and the compiler may inline
    # them) and thread_local accesses skip __tls_get_addr's general-dynamic path.
    'cflags': ['-O3', '-fno-math-errno', '-fPIC', '-fvisibility=hidden'],
    'cflags_cc': ['-std=gnu++17', '-fexceptions', '-fvisibility-inlines-hidden'],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'GCC_ENABLE_CPP_RTTI': 'YES',
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'gnu++17',
      'OTHER_CFLAGS': ['-O3', '-fno-math-errno'],
    },
    'msvs_settings': {
      'VCCLCompilerTool': {'ExceptionHandling': 1, 'AdditionalOptions': ['/std:c++17']},
    },
  },
  'targets': [
    {
      'target_name': 'rnnkit',
      'sources': [
        '<!@(<(rk_sources) addon)',
      ],
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
      ],
      # RNNKIT_NODE_ADDON: dispatch.cc leaves reporting a refused RNNKIT_ISA to TypeScript.
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'RNNKIT_NODE_ADDON'],
      'conditions': [
        ['target_arch=="x64"', {
          'sources': ['<!@(<(rk_sources) base x64 avx2,avx512)'],
          'dependencies': ['rnnkit_isa_avx2', 'rnnkit_isa_avx512'],
        }],
        ['target_arch=="arm64"', {
          'sources': ['<!@(<(rk_sources) base arm64 neon)'],
          'dependencies': ['rnnkit_isa_neon'],
        }],
        ['target_arch!="x64" and target_arch!="arm64"', {
          'sources': ['<!@(<(rk_sources) base <(target_arch) "")'],
        }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'rnnkit_isa_avx2',
          'type': 'static_library',
          'sources': ['<!@(<(rk_sources) sources x64 avx2)'],
          'cflags': ['<!@(<(rk_sources) flags x64 avx2)'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(<(rk_sources) flags x64 avx2)']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(<(rk_sources) msvc_flags x64 avx2)']}},
        },
        {
          'target_name': 'rnnkit_isa_avx512',
          'type': 'static_library',
          'sources': ['<!@(<(rk_sources) sources x64 avx512)'],
          'cflags': ['<!@(<(rk_sources) flags x64 avx512)'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(<(rk_sources) flags x64 avx512)']},
          'msvs_settings': {'VCCLCompilerTool': {'AdditionalOptions': ['<!@(<(rk_sources) msvc_flags x64 avx512)']}},
        },
      ],
    }],
    ['target_arch=="arm64"', {
      'targets': [
        {
          'target_name': 'rnnkit_isa_neon',
          'type': 'static_library',
          'sources': ['<!@(<(rk_sources) sources arm64 neon)'],
          'cflags': ['<!@(<(rk_sources) flags arm64 neon)'],
          'xcode_settings': {'OTHER_CFLAGS': ['<!@(<(rk_sources) flags arm64 neon)']},
        },
      ],
    }],
  ],
}
