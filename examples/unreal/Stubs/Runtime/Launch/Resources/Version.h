// COMPILE-ONLY STAND-IN for the engine's version header; see UnrealStubs.h. scripts/check_examples.sh
// compiles the plugin as each supported engine (-DENGINE_MINOR_VERSION=1 … 4); the default is the newest.
#pragma once

#ifndef ENGINE_MAJOR_VERSION
#define ENGINE_MAJOR_VERSION 5
#endif
#ifndef ENGINE_MINOR_VERSION
#define ENGINE_MINOR_VERSION 4
#endif
#ifndef ENGINE_PATCH_VERSION
#define ENGINE_PATCH_VERSION 0
#endif
