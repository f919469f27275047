// Gaming Panel Unreal example: module-wide declarations.
#pragma once

#include "CoreMinimal.h"

GAMINGPANEL_API DECLARE_LOG_CATEGORY_EXTERN(LogGamingPanel, Log, All);
