// Gaming Panel Unreal example: reading the files that hold what only this device knows (GamingPanelFiles::LoadState,
// see GamingPanelHttp.h), for the session, the cloud-save queue and the analytics queue. Only GamingPanelFiles' own
// file calls, so scripts/check_examples.sh builds and runs this file with Tests/StateFileTest.cpp (fake files).
#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"

GamingPanelFiles::EStateFile GamingPanelFiles::LoadState(FString& OutText, const FString& Path,
	const TFunction<bool(const FString&)>& IsReadable, const TCHAR* What)
{
	if (LoadText(OutText, Path))
	{
		if (IsReadable(OutText)) return EStateFile::Read;
	}
	else if (!Exists(Path))
	{
		return EStateFile::Missing;
	}
	OutText.Empty();
	const FString Aside = SetAside(Path);
	if (!Aside.IsEmpty())
	{
		UE_LOG(LogGamingPanel, Error, TEXT("%s: the local copy could not be read; it is kept as %s (what it holds is not used). Starting empty."), What, *Aside);
		return EStateFile::MovedAside;
	}
	UE_LOG(LogGamingPanel, Error, TEXT("%s: the local copy can neither be read nor moved; this session's state is kept in memory, and the file is not written over."), What);
	return EStateFile::MemoryOnly;
}
