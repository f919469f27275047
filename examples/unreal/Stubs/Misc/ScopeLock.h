// Compile-only stand-in for the engine header of the same path; see UnrealStubs.h.
#pragma once
#include "UnrealStubs.h"
