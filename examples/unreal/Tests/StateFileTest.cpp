// Runs GamingPanelFiles::LoadState (Private/GamingPanelStateFile.cpp) outside the engine, against fake files: how the
// session (Session-*.json, with the purchases' Idempotency-Keys and the refresh token), the cloud-save queue and the
// analytics queue are read. A file that exists but cannot be read must never be written over (what it holds would be
// lost: a purchase retried after a restart under a new key could be charged twice): it is moved aside, or, when it
// cannot be moved, the caller keeps its state in memory (MemoryOnly: its SaveState / Write do not touch the file).
// Built and run with g++ (see scripts/check_examples.sh); exits 1 when a check fails.
#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"

#include <cstdio>
#include <map>
#include <set>
#include <string>

DEFINE_LOG_CATEGORY(LogGamingPanel);

// ---------------------------------------------------------------- fake files for GamingPanelFiles' own calls

namespace
{
struct FFakeDisk
{
	std::map<std::wstring, std::wstring> Files;
	std::set<std::wstring> Locked;    // on disk, but another program holds it: cannot be read
	std::set<std::wstring> Unmovable; // cannot be moved either
	int Moves = 0;
};
FFakeDisk Disk;
}

bool GamingPanelFiles::LoadText(FString& OutText, const FString& Path)
{
	const auto Found = Disk.Files.find(*Path);
	if (Found == Disk.Files.end() || Disk.Locked.count(*Path)) return false;
	OutText = FString(Found->second.c_str());
	return true;
}

bool GamingPanelFiles::Exists(const FString& Path)
{
	return Disk.Files.count(*Path) > 0;
}

FString GamingPanelFiles::SetAside(const FString& Path)
{
	if (Disk.Unmovable.count(*Path) || !Disk.Files.count(*Path)) return FString();
	const std::wstring Aside = std::wstring(*Path) + L".unreadable-1767225600";
	Disk.Files[Aside] = Disk.Files[*Path];
	Disk.Files.erase(*Path);
	Disk.Locked.erase(*Path);
	++Disk.Moves;
	return FString(Aside.c_str());
}

// ---------------------------------------------------------------- checks

namespace
{
int Passed = 0;
int Failed = 0;
using EStateFile = GamingPanelFiles::EStateFile;
const TCHAR* const Session = TEXT("Saved/GamingPanel/Session-0123456789ab.json");
const wchar_t* const Aside = L"Saved/GamingPanel/Session-0123456789ab.json.unreadable-1767225600";
const wchar_t* const Saved = L"{\"refresh_token\":\"r-1\",\"pending_purchases\":{\"gems_100|1\":\"key-1\"}}";

void Check(const char* Name, bool bOk)
{
	std::printf("  %s  %s\n", bOk ? "ok  " : "FAIL", Name);
	(bOk ? Passed : Failed)++;
}

/** The kit's readers: the text must be a JSON object (here: starts with '{' and ends with '}'). */
bool IsObject(const FString& Text)
{
	const std::wstring Value(*Text);
	return !Value.empty() && Value.front() == L'{' && Value.back() == L'}';
}

EStateFile Load(FString& Text, int* Asked = nullptr)
{
	return GamingPanelFiles::LoadState(Text, FString(Session), [Asked](const FString& Loaded)
	{
		if (Asked) ++*Asked;
		return IsObject(Loaded);
	}, TEXT("Session"));
}

void Reset()
{
	Disk = FFakeDisk();
}
}

int main()
{
	{
		Reset();
		FString Text;
		int Asked = 0;
		Check("no file: Missing, nothing moved", Load(Text, &Asked) == EStateFile::Missing && Disk.Moves == 0 && Asked == 0);
	}
	{
		Reset();
		Disk.Files[Session] = Saved;
		FString Text;
		Check("a readable file: Read, with its text", Load(Text) == EStateFile::Read && std::wstring(*Text) == Saved && Disk.Moves == 0);
	}
	{
		Reset();
		const std::wstring CutShort = std::wstring(Saved).substr(0, 40);
		Disk.Files[Session] = CutShort;
		FString Text;
		const EStateFile Got = Load(Text);
		Check("a file cut short: moved aside (the caller starts empty and may write a new one)",
			Got == EStateFile::MovedAside && !Disk.Files.count(Session) && Text.IsEmpty());
		Check("the unreadable copy is kept as it was, with its purchases' keys", Disk.Files.count(Aside) && Disk.Files[Aside] == CutShort);
	}
	{
		Reset();
		Disk.Files[Session] = Saved;
		Disk.Locked.insert(Session);
		FString Text;
		Check("a file another program holds: moved aside when it can be", Load(Text) == EStateFile::MovedAside && Disk.Files[Aside] == Saved);
	}
	{
		Reset();
		Disk.Files[Session] = Saved;
		Disk.Locked.insert(Session);
		Disk.Unmovable.insert(Session);
		FString Text;
		Check("a file that can be neither read nor moved: MemoryOnly (the caller must not write over it), left as it is",
			Load(Text) == EStateFile::MemoryOnly && Disk.Files[Session] == Saved && Disk.Moves == 0);
	}
	std::printf("unreal state files: %d passed, %d failed\n", Passed, Failed);
	return Failed == 0 ? 0 : 1;
}
