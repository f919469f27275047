// Gaming Panel Unity SDK: the test assembly (Tests/GamingPanel.Tests.asmdef) sees the SDK's internals.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("GamingPanel.Tests")]
