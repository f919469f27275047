// Gaming Panel Unreal example: module rules.
using UnrealBuildTool;

public class GamingPanel : ModuleRules
{
	public GamingPanel(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		PublicDependencyModuleNames.AddRange(new string[]
		{
			"Core",
			"CoreUObject",
			"Engine",
			"HTTP",
			"Json",
			"DeveloperSettings",
		});

		// Steam login (GetAuthTicketForWebApi) uses the Steamworks SDK that ships with the engine. It is compiled
		// only for desktop client targets; everything else logs in with other providers (or dev in sandbox).
		// Enable the "Online Subsystem Steam" plugin too: it initialises Steam and pumps its callbacks.
		bool bWithSteam = Target.Type != TargetType.Server &&
			(Target.Platform == UnrealTargetPlatform.Win64 ||
			 Target.Platform == UnrealTargetPlatform.Linux ||
			 Target.Platform == UnrealTargetPlatform.Mac);
		if (bWithSteam)
		{
			AddEngineThirdPartyPrivateStaticDependencies(Target, "Steamworks");
		}
		PublicDefinitions.Add("GAMINGPANEL_WITH_STEAM=" + (bWithSteam ? "1" : "0"));
	}
}
