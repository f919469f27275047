// COMPILE-ONLY STAND-INS for the UnrealBuildTool types GamingPanel.Build.cs uses, so CI can type-check the module
// rules with Mono's mcs (scripts/check_examples.sh). Not part of the plugin; UBT supplies the real ones.
using System.Collections.Generic;

namespace UnrealBuildTool
{
	public enum TargetType { Game, Editor, Client, Server, Program }

	public struct UnrealTargetPlatform
	{
		public static UnrealTargetPlatform Win64 { get { return new UnrealTargetPlatform(); } }
		public static UnrealTargetPlatform Linux { get { return new UnrealTargetPlatform(); } }
		public static UnrealTargetPlatform Mac { get { return new UnrealTargetPlatform(); } }
		public static bool operator ==(UnrealTargetPlatform a, UnrealTargetPlatform b) { return true; }
		public static bool operator !=(UnrealTargetPlatform a, UnrealTargetPlatform b) { return false; }
		public override bool Equals(object other) { return other is UnrealTargetPlatform; }
		public override int GetHashCode() { return 0; }
	}

	public class ReadOnlyTargetRules
	{
		public TargetType Type { get { return TargetType.Game; } }
		public UnrealTargetPlatform Platform { get { return new UnrealTargetPlatform(); } }
	}

	public class ModuleRules
	{
		public enum PCHUsageMode { Default, NoPCHs, NoSharedPCHs, UseSharedPCHs, UseExplicitOrSharedPCHs }

		public ModuleRules(ReadOnlyTargetRules Target) { }

		public PCHUsageMode PCHUsage;
		public List<string> PublicDependencyModuleNames = new List<string>();
		public List<string> PrivateDependencyModuleNames = new List<string>();
		public List<string> PublicDefinitions = new List<string>();

		protected void AddEngineThirdPartyPrivateStaticDependencies(ReadOnlyTargetRules Target, params string[] ModuleNames) { }
	}
}
