// Gaming Panel Unreal example: module registration.
#include "GamingPanelModule.h"
#include "Modules/ModuleManager.h"

DEFINE_LOG_CATEGORY(LogGamingPanel);

IMPLEMENT_MODULE(FDefaultModuleImpl, GamingPanel);
