// Compile-only shim for UnrealHeaderTool output (the real file is generated into Intermediate/ by UBT).
// Empty on purpose: GENERATED_BODY() expands to nothing in UnrealStubs.h. One shim per reflected header.
#pragma once
