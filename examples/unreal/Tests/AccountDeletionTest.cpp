// Runs FGamingPanelAccountDeletion and the deleted player's file wipe (Private/GamingPanelAccount.cpp) outside the
// engine, against a fake panel (DELETE player) and fake files (IFileManager), with the wipe UGamingPanelSubsystem
// runs on the files: the session file and Saved/GamingPanel/<player>/. Where the deletion meets the subsystem's token
// refresh (the DELETE's renewal and the game's calls waiting on it, the session lost or wiped while they wait), the
// plugin's own FGamingPanelTokenRefresh (Public/GamingPanelTokenRefresh.h) is wired as the subsystem wires it
// (FSessionRig). Built and run with g++ (see scripts/check_examples.sh); exits 1 when a check fails.
#include "GamingPanelAccount.h"
#include "GamingPanelHttp.h"
#include "GamingPanelTokenRefresh.h"
#include "HAL/FileManager.h"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

// ---------------------------------------------------------------- fake files

namespace
{
class FFakeFiles : public IFileManager
{
public:
	std::map<std::wstring, std::wstring> Files;

	virtual bool Move(const TCHAR* Dest, const TCHAR* Src, bool, bool, bool, bool) override
	{
		if (!Files.count(Src)) return false;
		Files[Dest] = Files[Src];
		Files.erase(Src);
		return true;
	}
	virtual bool FileExists(const TCHAR* Filename) override { return Files.count(Filename) > 0; }
	virtual bool Delete(const TCHAR* Filename, bool, bool, bool) override { Files.erase(Filename); return true; }
	virtual bool DeleteDirectory(const TCHAR* Path, bool, bool Tree) override
	{
		const std::wstring Prefix = std::wstring(Path) + L"/";
		for (auto It = Files.begin(); It != Files.end();)
		{
			if (It->first.rfind(Prefix, 0) != 0) { ++It; continue; }
			if (!Tree) return false;
			It = Files.erase(It);
		}
		return true;
	}
};
FFakeFiles Disk;
}

IFileManager& IFileManager::Get()
{
	return Disk;
}

// ---------------------------------------------------------------- fake panel

namespace
{
int Passed = 0;
int Failed = 0;

void Check(const char* Name, bool bOk)
{
	std::printf("  %s  %s\n", bOk ? "ok  " : "FAIL", Name);
	(bOk ? Passed : Failed)++;
}

/** The one request the panel takes: the confirmation in the query string, percent-encoded (%20, not +), no body. */
const TCHAR* const DeletePath = TEXT("player?confirm=delete%20my%20account");

bool IsConfirmed(const FGamingPanelAccountRequest& Request)
{
	return Request.Verb == TEXT("DELETE") && Request.Path == DeletePath && Request.BodyJson.IsEmpty();
}

const wchar_t* const Session = L"Saved/GamingPanel/Session-0123456789ab.json";
const wchar_t* const Folder7 = L"Saved/GamingPanel/7";
const wchar_t* const Folder8 = L"Saved/GamingPanel/8";

/** Player 7's device: the session file, and every file the plugin keeps for 7 (and one of player 8's, which stays). */
void FillDisk()
{
	Disk.Files.clear();
	Disk.Files[Session] = L"{\"refresh_token\":\"r-1\",\"player_id\":\"7\",\"pending_purchases\":{\"7|gems|1\":\"key-1\"}}";
	Disk.Files[Session + std::wstring(L".tmp")] = L"{\"refresh_token\":\"r-0\"}";
	for (const wchar_t* Name : { L"/cloud_saves.json", L"/cloud_saves.json.tmp", L"/cloud_saves.json.unreadable-1767225600",
			 L"/remote_config.json", L"/analytics_queue.json" })
	{
		Disk.Files[Folder7 + std::wstring(Name)] = L"{}";
	}
	Disk.Files[Folder8 + std::wstring(L"/cloud_saves.json")] = L"{}";
	Disk.Files[L"Saved/GamingPanel/77/cloud_saves.json"] = L"{}";
}

bool Player7Left()
{
	for (const auto& Entry : Disk.Files)
	{
		if (Entry.first.rfind(std::wstring(Folder7) + L"/", 0) == 0 || Entry.first.rfind(Session, 0) == 0) return true;
	}
	return false;
}

bool OthersKept()
{
	return Disk.Files.count(std::wstring(Folder8) + L"/cloud_saves.json") && Disk.Files.count(L"Saved/GamingPanel/77/cloud_saves.json");
}

FGamingPanelAccountAnswer Answer(int32 Status, const TCHAR* Code = TEXT(""))
{
	FGamingPanelAccountAnswer A;
	A.bOk = Status >= 200 && Status < 300;
	A.Status = Status;
	if (!A.bOk)
	{
		A.Error.Status = Status;
		A.Error.Code = Status == 0 ? FString(TEXT("network_error")) : FString(Code);
	}
	return A;
}

/** The panel's answer to a token refused because the account was erased: 401 token_revoked with account_deleted. */
FGamingPanelAccountAnswer Erased()
{
	FGamingPanelAccountAnswer A = Answer(401, TEXT("token_revoked"));
	A.Error.bAccountDeleted = true;
	return A;
}

/**
 * The panel: answers each DELETE with the next scripted answer, and records what was sent. Like the panel, it answers
 * 400 confirmation_required to a DELETE without the exact confirmation (in the query string, with no body).
 */
struct FFakePanel
{
	TArray<FGamingPanelAccountRequest> Sent;
	TArray<FGamingPanelAccountAnswer> Script;
	int32 Renewals = 0;
	/** RenewWithoutLogin's answers, in order (a new token when there are none left); who asked, and with what. */
	TArray<FGamingPanelError> RefreshScript;
	TArray<FString> RenewedWithoutLoginFor;
	TArray<FString> RenewedWithoutLoginFrom;
	/** Set by FSessionRig: RenewWithoutLogin as the subsystem's, joining the token refresh in flight. */
	TFunction<void(const FString& Player, FGamingPanelAccountDeletion::FOnToken OnToken)> RenewOnRefresh;
	TArray<float> Waits;
	/** Delays not run yet (bHoldDelays): a DELETE waiting to be sent again. */
	bool bHoldDelays = false;
	TArray<TFunction<void()>> Held;
	/** The session file's unconfirmed DELETE (Persist's last word), and whether it held each DELETE before it was sent. */
	FString KeptPlayer;
	FString KeptToken;
	TArray<int32> KeptBeforeSend; // 1: kept, 0: not (TArray<bool> is a std::vector<bool> in the stand-ins)
	int32 Wipes = 0;
	/** Whose session LoseSession ended (a 401 token_revoked that is not the erasure after a DELETE went out). */
	TArray<FString> LostSessions;
	/** Set by FSessionRig: LoseSession as the subsystem's LoseSessionKeepingDeletion runs it, after LostSessions records it. */
	TFunction<void(const FString& Player)> LoseOnRefresh;
	/** LostSessions.Num() when the last OnDone came. */
	int32 LostWhenDone = -1;
	bool bDone = false;
	bool bOk = false;
	FGamingPanelError Error;

	TSharedRef<FGamingPanelAccountDeletion> Deletion(int32 MaxRetries)
	{
		return MakeShared<FGamingPanelAccountDeletion>(
			[this](const FGamingPanelAccountRequest& Request, FGamingPanelAccountDeletion::FOnAnswer OnAnswer)
			{
				KeptBeforeSend.Add(KeptPlayer == TEXT("7") && KeptToken == Request.AccessToken ? 1 : 0);
				Sent.Add(Request);
				const int32 Index = Sent.Num() - 1;
				if (!IsConfirmed(Request))
				{
					OnAnswer(Answer(400, TEXT("confirmation_required")));
					return;
				}
				OnAnswer(Index < Script.Num() ? Script[Index] : Answer(500, TEXT("server_error")));
			},
			[this](const FString&, FGamingPanelAccountDeletion::FOnToken OnToken)
			{
				++Renewals;
				OnToken(true, FString(TEXT("access-renewed")), FGamingPanelError());
			},
			[this](const FString& Player, const FString& FailedToken, FGamingPanelAccountDeletion::FOnToken OnToken)
			{
				RenewedWithoutLoginFor.Add(Player);
				RenewedWithoutLoginFrom.Add(FailedToken);
				if (RenewOnRefresh)
				{
					RenewOnRefresh(Player, MoveTemp(OnToken));
					return;
				}
				const int32 Index = RenewedWithoutLoginFor.Num() - 1;
				if (Index < RefreshScript.Num())
				{
					OnToken(false, FString(), RefreshScript[Index]);
					return;
				}
				OnToken(true, FString(TEXT("access-refreshed")), FGamingPanelError());
			},
			[this](float Seconds, TFunction<void()> Then)
			{
				Waits.Add(Seconds);
				if (bHoldDelays)
				{
					Held.Add(MoveTemp(Then));
					return;
				}
				Then();
			},
			MaxRetries,
			[this](const FString& Player, const FString& Token)
			{
				KeptPlayer = Player;
				KeptToken = Token;
			},
			[this](const FString& Player)
			{
				LostSessions.Add(Player);
				if (LoseOnRefresh)
				{
					LoseOnRefresh(Player);
				}
			});
	}

	/** The app restarts: a new deletion, given back what the session file kept (as UGamingPanelSubsystem::LoadState does). */
	TSharedRef<FGamingPanelAccountDeletion> Restarted(int32 MaxRetries)
	{
		TSharedRef<FGamingPanelAccountDeletion> Deletion = this->Deletion(MaxRetries);
		Deletion->Restore(KeptPlayer, KeptToken);
		return Deletion;
	}

	/** The subsystem's wipe of player 7's files (WipeDeletedPlayer's file part). */
	TFunction<void()> WipeFiles()
	{
		return [this]()
		{
			++Wipes;
			GamingPanelFiles::EraseFolder(FString(Folder7));
			GamingPanelFiles::DeleteFile(FString(Session));
		};
	}

	/** Resume of player 7 (the subsystem, before the player's next call while a DELETE is unconfirmed). */
	void Resume(FGamingPanelAccountDeletion& Deletion)
	{
		bDone = false;
		Deletion.Resume(FString(TEXT("7")), WipeFiles(), [this](bool bInOk, const FGamingPanelError& InError)
		{
			bDone = true;
			bOk = bInOk;
			Error = InError;
		});
	}

	/** Runs a Delete of player 7 with the subsystem's file wipe (WipeDeletedPlayer's file part). */
	void Delete(FGamingPanelAccountDeletion& Deletion, const TCHAR* Token = TEXT("access-1"))
	{
		bDone = false;
		Deletion.Delete(FString(TEXT("7")), FString(Token), WipeFiles(),
			[this](bool bInOk, const FGamingPanelError& InError)
			{
				LostWhenDone = LostSessions.Num();
				bDone = true;
				bOk = bInOk;
				Error = InError;
				if (OnDoneHook)
				{
					OnDoneHook(bInOk, InError);
				}
			});
	}

	/** Also told each Delete's outcome, as it comes (FSessionRig records it among what the game hears). */
	TFunction<void(bool bOk, const FGamingPanelError& Error)> OnDoneHook;
};

/**
 * What the deletion meets of UGamingPanelSubsystem's session, wired as the subsystem wires it (GamingPanelSubsystem.cpp):
 * the token refresh in flight is the plugin's own FGamingPanelTokenRefresh; the DELETE's renewal (RenewWithoutLogin)
 * and the game's calls (GetAccessToken, RecoverFromUnauthorized) join it; its refusal is decided by RefreshRefused, as
 * RefreshAnswered does; LoseSession is LoseSessionKeepingDeletion and the wipe WipeDeletedPlayer: the session forgotten
 * (ClearSession), the files wiped, then TokenRefresh->EndSession, which tells the game (OnSessionLost) and answers the
 * refresh's waiters. Heard: what the game hears, in order, each waiter's line saying whether the files were gone yet.
 */
struct FSessionRig
{
	FGamingPanelTokenRefresh Refresh{
		[](const FString&, FGamingPanelTokenRefresh::FOnAnswer) {}, // the refresh's answer: the test calls RefreshRefused
		[](float, TFunction<void()>) {},
		[]() { return 0.0; }};
	bool bSession = true;
	/** DeleteAccount calls waiting (the subsystem's DeleteAccountWaiters): then a confirmed erasure tells no OnSessionLost. */
	int32 DeleteAccountWaiters = 0;
	TFunction<void()> Files;
	std::vector<std::wstring> Heard;

	FSessionRig(FFakePanel& Panel, TFunction<void()> InFiles) : Files(MoveTemp(InFiles))
	{
		Panel.RenewOnRefresh = [this](const FString&, FGamingPanelAccountDeletion::FOnToken OnToken)
		{
			Join([OnToken](bool bOk, const FGamingPanelError& Error)
			{
				OnToken(bOk, bOk ? FString(TEXT("access-refreshed")) : FString(), Error);
			});
		};
		Panel.LoseOnRefresh = [this](const FString&) { LoseSessionKeepingDeletion(); };
		Panel.OnDoneHook = [this](bool bOk, const FGamingPanelError& Error) { Record(L"Delete", bOk, Error); };
	}

	void Record(const wchar_t* Who, bool bOk, const FGamingPanelError& Error)
	{
		Heard.push_back(std::wstring(Who) + L": " + (bOk ? std::wstring(L"ok") : std::wstring(*Error.Code)) +
			(Player7Left() ? L"" : L" (wiped)"));
	}

	/** The subsystem's Refresh(OnDone, bForce): joins the refresh in flight, or starts one (answered at once without a session). */
	void Join(FGamingPanelTokenRefresh::FOnDone OnDone)
	{
		if (Refresh.Join(MoveTemp(OnDone), true) && !bSession)
		{
			Refresh.Finish(false, Answer(401, TEXT("not_logged_in")).Error);
		}
	}

	/** A game call waiting on the refresh (RecoverFromUnauthorized after its 401). */
	void GameCall(const wchar_t* Who)
	{
		const std::wstring Name = Who;
		Join([this, Name](bool bOk, const FGamingPanelError& Error) { Record(Name.c_str(), bOk, Error); });
	}

	/** The game's OnSessionLost handler: told, and (as a game may) making a call at once. */
	void OnSessionLost()
	{
		Heard.push_back(std::wstring(L"OnSessionLost") + (Player7Left() ? L"" : L" (wiped)"));
		GameCall(L"call made when told");
	}

	/** LoseSessionKeepingDeletion: ClearSession, then EndSession telling OnSessionLost. */
	void LoseSessionKeepingDeletion()
	{
		bSession = false;
		Refresh.EndSession(Answer(401, TEXT("not_logged_in")).Error, [this]() { OnSessionLost(); });
	}

	/** WipeDeletedPlayer of the logged-in player: ClearSession, the files, then EndSession telling OnSessionLost when no DeleteAccount waits. */
	TFunction<void()> Wipe()
	{
		return [this]()
		{
			bSession = false;
			Files();
			const bool bTell = DeleteAccountWaiters == 0;
			Refresh.EndSession(Answer(401, TEXT("not_logged_in")).Error, [this, bTell]()
			{
				if (bTell)
				{
					OnSessionLost();
				}
			});
		};
	}

	/** RefreshAnswered with a refusal: RefreshRefused decides, then FinishRefreshOf (the refresh, unless already ended). */
	FGamingPanelAccountDeletion::ERefreshRefused Refused(FGamingPanelAccountDeletion& Deletion, const FGamingPanelError& Error)
	{
		const FGamingPanelAccountDeletion::ERefreshRefused Outcome = Deletion.RefreshRefused(FString(TEXT("7")), Error, Wipe());
		if (Refresh.IsInFlight())
		{
			Refresh.Finish(false, Error);
		}
		return Outcome;
	}

	std::wstring Said() const
	{
		std::wstring Out;
		for (const std::wstring& Line : Heard)
		{
			Out += (Out.empty() ? L"" : L" | ") + Line;
		}
		return Out;
	}

	/** Heard is exactly Expected; if not, says what was heard. */
	bool Is(std::initializer_list<const wchar_t*> Expected) const
	{
		std::vector<std::wstring> Want(Expected.begin(), Expected.end());
		if (Heard == Want)
		{
			return true;
		}
		std::printf("        heard: %ls\n", Said().c_str());
		return false;
	}
};
}

int main()
{
	{
		const FGamingPanelAccountRequest Request = FGamingPanelAccountDeletion::DeleteRequest(FString(TEXT("access-1")));
		Check("the request: DELETE", Request.Verb == TEXT("DELETE"));
		Check("the path: player?confirm=delete%20my%20account (the space as %20, not +)", Request.Path == TEXT("player?confirm=delete%20my%20account"));
		Check("no body (so no Content-Type)", Request.BodyJson.IsEmpty());
		Check("with the player's access token", Request.AccessToken == TEXT("access-1"));
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(204));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("204: done, one DELETE", Panel.bDone && Panel.bOk && Panel.Sent.Num() == 1);
		Check("204: the wipe ran once", Panel.Wipes == 1);
		Check("204: the session file (refresh token, purchase keys) and its .tmp are gone", !Disk.Files.count(Session) &&
			!Disk.Files.count(Session + std::wstring(L".tmp")));
		Check("204: the cloud-save cache and queue, remote config, analytics queue and unreadable copies are gone", !Player7Left());
		Check("204: other players' files are kept", OthersKept());
		Check("204: nothing is written for the player again", GamingPanelFiles::IsErased(FString(TEXT("Saved/GamingPanel/7/cloud_saves.json"))) &&
			!GamingPanelFiles::IsErased(FString(TEXT("Saved/GamingPanel/77/cloud_saves.json"))) &&
			!GamingPanelFiles::IsErased(FString(TEXT("Saved/GamingPanel/8/analytics_queue.json"))));
		FString Token;
		Check("204: no DELETE left unconfirmed", !Deletion->UnconfirmedToken(FString(TEXT("7")), Token));
	}
	{
		const FGamingPanelAccountAnswer Failures[] = { Answer(500, TEXT("server_error")), Answer(0), Answer(400, TEXT("confirmation_required")), Answer(403, TEXT("forbidden")) };
		for (const FGamingPanelAccountAnswer& Failure : Failures)
		{
			FillDisk();
			const size_t Before = Disk.Files.size();
			FFakePanel Panel;
			Panel.Script.Add(Failure);
			Panel.Script.Add(Failure);
			TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(1);
			Panel.Delete(*Deletion);
			const bool bRetried = Failure.Error.Status == 0 || Failure.Error.Status >= 500;
			Check("failure: done with the error as it came", Panel.bDone && !Panel.bOk && Panel.Error.Status == Failure.Error.Status &&
				Panel.Error.Code == Failure.Error.Code);
			Check("failure: a 5xx or no answer is sent once more, a 400/403 is not", Panel.Sent.Num() == (bRetried ? 2 : 1));
			Check("failure: nothing wiped, every file kept", Panel.Wipes == 0 && Disk.Files.size() == Before);
		}
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));                                  // deleted, the answer lost
		Panel.Script.Add(Erased());        // every session revoked
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("401 after a lost answer: done", Panel.bDone && Panel.bOk && Panel.Wipes == 1 && !Player7Left());
		Check("401 after a lost answer: resent with the same token, path and no body, no renewal",
			Panel.Sent.Num() == 2 && Panel.Sent[1].AccessToken == TEXT("access-1") &&
			IsConfirmed(Panel.Sent[0]) && IsConfirmed(Panel.Sent[1]) && Panel.Renewals == 0);
		Check("401 after a lost answer: waited 1 s before the resend", Panel.Waits.Num() == 1 && Panel.Waits[0] == 1.f);
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Erased());
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		FString Token;
		Check("no answer left after the retries: the error, nothing wiped", Panel.bDone && !Panel.bOk && Panel.Wipes == 0 && Player7Left());
		Check("no answer left after the retries: remembered with its token", Deletion->UnconfirmedToken(FString(TEXT("7")), Token) &&
			Token == TEXT("access-1"));
		Panel.Delete(*Deletion, TEXT("access-2"));
		Check("the next Delete resends with the token it went with, and its 401 token_revoked (account_deleted) counts as done",
			Panel.Sent.Num() == 2 && Panel.Sent[1].AccessToken == TEXT("access-1") && IsConfirmed(Panel.Sent[1]) && Panel.bOk && Panel.Wipes == 1 && !Player7Left());
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(401, TEXT("token_expired"))); // refused before anything was deleted
		Panel.Script.Add(Answer(204));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("401 token_expired first: renewed once, sent again with the new token, done",
			Panel.Renewals == 1 && Panel.Sent.Num() == 2 && Panel.Sent[1].AccessToken == TEXT("access-renewed") && Panel.bOk && Panel.Wipes == 1);
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(401, TEXT("token_revoked")));
		Panel.Script.Add(Answer(401, TEXT("token_revoked")));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("401 twice with nothing sent before: the error, nothing wiped", Panel.bDone && !Panel.bOk && Panel.Error.Status == 401 &&
			Panel.Wipes == 0 && Player7Left());
	}
	// A DELETE that got a 502 and never reached the panel, resent by the next Delete after its token's lifetime: the
	// panel checks expiry before revocation, so the resend gets 401 token_expired (or invalid_token) though the account
	// is still there.
	for (const TCHAR* Resend : { TEXT("token_expired"), TEXT("invalid_token") })
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Answer(401, Resend));
		Panel.Script.Add(Answer(204));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		Panel.Delete(*Deletion, TEXT("access-2"));
		Check("401 token_expired / invalid_token on the resend: not done on its own, refreshed once without a login, for player 7",
			Panel.RenewedWithoutLoginFor.Num() == 1 && Panel.RenewedWithoutLoginFor[0] == TEXT("7") &&
			Panel.RenewedWithoutLoginFrom[0] == TEXT("access-1") && Panel.Renewals == 0);
		Check("401 token_expired / invalid_token on the resend, new tokens: the DELETE sent again with them, and its 204 is done",
			Panel.Sent.Num() == 3 && Panel.Sent[2].AccessToken == TEXT("access-refreshed") && IsConfirmed(Panel.Sent[2]) &&
			Panel.bDone && Panel.bOk && Panel.Wipes == 1 && !Player7Left());
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Answer(401, TEXT("token_expired")));
		Panel.RefreshScript.Add(Erased().Error); // the erasure revoked the session
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		Panel.Delete(*Deletion, TEXT("access-2"));
		FString Token;
		Check("401 token_expired on the resend, the refresh answers 401 token_revoked (account_deleted): done, wiped, no DELETE after it",
			Panel.RenewedWithoutLoginFor.Num() == 1 && Panel.Sent.Num() == 2 && Panel.bDone && Panel.bOk && Panel.Wipes == 1 &&
			!Player7Left() && !Deletion->UnconfirmedToken(FString(TEXT("7")), Token));
	}
	{
		const FGamingPanelError RefreshFailures[] = { Answer(0).Error, Answer(401, TEXT("refresh_token_reused")).Error,
			Answer(401, TEXT("token_expired")).Error, Answer(503, TEXT("service_unavailable")).Error };
		for (const FGamingPanelError& RefreshFailure : RefreshFailures)
		{
			FillDisk();
			const size_t Before = Disk.Files.size();
			FFakePanel Panel;
			Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
			Panel.Script.Add(Answer(401, TEXT("token_expired")));
			Panel.RefreshScript.Add(RefreshFailure);
			TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
			Panel.Delete(*Deletion);
			Panel.Delete(*Deletion, TEXT("access-2"));
			FString Token;
			Check("401 token_expired on the resend, the refresh fails otherwise: its error, nothing wiped, the DELETE still remembered",
				Panel.bDone && !Panel.bOk && Panel.Error.Status == RefreshFailure.Status && Panel.Error.Code == RefreshFailure.Code &&
				Panel.Wipes == 0 && Disk.Files.size() == Before && Panel.Sent.Num() == 2 &&
				Deletion->UnconfirmedToken(FString(TEXT("7")), Token) && Token == TEXT("access-1"));
		}
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));
		Panel.Script.Add(Answer(401, TEXT("not_logged_in")));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("any other 401 after a DELETE went out: the error, nothing wiped, no renewal",
			Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") && Panel.Wipes == 0 && Player7Left() &&
			Panel.RenewedWithoutLoginFor.Num() == 0 && Panel.Renewals == 0);
	}
	using ERefused = FGamingPanelAccountDeletion::ERefreshRefused;
	{
		// The subsystem's order: the DELETE's renewal and a game call wait on the token refresh, refused with a plain 401
		// token_revoked; LoseSession (LoseSessionKeepingDeletion) forgets the session and ends the refresh in flight.
		// The game hears OnSessionLost first (a call it makes then is its own), then the waiting call not_logged_in, then
		// the Delete.
		FillDisk();
		FFakePanel Panel;
		FSessionRig Rig(Panel, Panel.WipeFiles());
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Answer(401, TEXT("token_expired")));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		Rig.Heard.clear();
		Panel.Delete(*Deletion, TEXT("access-2"));
		Rig.GameCall(L"call");
		const bool bWaiting = Rig.Refresh.IsInFlight() && Panel.RenewedWithoutLoginFor.Num() == 1 && !Panel.bDone && Rig.Heard.empty();
		const ERefused Refused = Rig.Refused(*Deletion, Answer(401, TEXT("token_revoked")).Error);
		FString Player;
		FString Platform;
		Check("the renewal's refresh refused with a plain 401 token_revoked: the session lost, the Delete not_logged_in; nothing wiped, still pending",
			bWaiting && Refused == ERefused::SessionLost && Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") &&
			Panel.LostSessions.Num() == 1 && Panel.LostWhenDone == 1 && Panel.Wipes == 0 && Player7Left() && Panel.Sent.Num() == 2 &&
			Deletion->Pending(Player, Platform) && Player == TEXT("7"));
		Check("... the game hears OnSessionLost before the call waiting on that refresh hears not_logged_in, and the Delete after it",
			Rig.Is({L"OnSessionLost", L"call made when told: not_logged_in", L"call: not_logged_in", L"Delete: not_logged_in"}));
	}
	{
		// The same with no DELETE's renewal waiting: the DELETE's own answer is a plain 401 token_revoked (Lost) while a
		// game call waits on a refresh.
		FillDisk();
		FFakePanel Panel;
		FSessionRig Rig(Panel, Panel.WipeFiles());
		Panel.Script.Add(Answer(0));
		Panel.Script.Add(Answer(401, TEXT("token_revoked")));
		Panel.bHoldDelays = true;
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Rig.GameCall(L"call");
		for (TFunction<void()>& Then : Panel.Held)
		{
			Then(); // the resend, answered 401 token_revoked
		}
		Check("the DELETE's resend answered a plain 401 token_revoked while a call waits on a refresh: OnSessionLost, then the call, then the Delete",
			Panel.LostSessions.Num() == 1 && Panel.Wipes == 0 &&
			Rig.Is({L"OnSessionLost", L"call made when told: not_logged_in", L"call: not_logged_in", L"Delete: not_logged_in"}));
	}
	{
		// The subsystem's order: the DELETE's renewal waits on the token refresh; that refresh is refused with the erasure
		// answer, and RefreshRefused's Wipe (WipeDeletedPlayer) forgets the session, deletes the files, then ends the
		// refresh in flight (the renewal among its waiters): a DeleteAccount waits, so no OnSessionLost.
		FillDisk();
		FFakePanel Panel;
		FSessionRig Rig(Panel, Panel.WipeFiles());
		Rig.DeleteAccountWaiters = 1;
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Answer(401, TEXT("token_expired")));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		Rig.Heard.clear();
		Panel.Delete(*Deletion, TEXT("access-2"));
		Rig.GameCall(L"call");
		const bool bWaiting = Rig.Refresh.IsInFlight() && Panel.RenewedWithoutLoginFor.Num() == 1 && !Panel.bDone;
		const ERefused Refused = Rig.Refused(*Deletion, Erased().Error);
		Check("the renewal's refresh refused with 401 token_revoked (account_deleted), the wipe ending that refresh: "
			"the Delete hears OnDone(true), wiped once, no DELETE after it",
			bWaiting && Refused == ERefused::Deleted && Panel.bDone && Panel.bOk && Panel.Wipes == 1 && !Player7Left() &&
			Panel.Sent.Num() == 2 && Panel.LostSessions.Num() == 0);
		Check("... the call waiting on that refresh hears not_logged_in with the player already wiped, the Delete after it",
			Rig.Is({L"call: not_logged_in (wiped)", L"Delete: ok (wiped)"}));
	}
	{
		// Another call's refresh refused with the erasure answer, no DeleteAccount waiting: WipeDeletedPlayer wipes the
		// files, tells the game (OnSessionLost), and only then the calls waiting on that refresh hear not_logged_in.
		FillDisk();
		FFakePanel Panel;
		FSessionRig Rig(Panel, Panel.WipeFiles());
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Rig.GameCall(L"call");
		Rig.GameCall(L"second call");
		const ERefused Refused = Rig.Refused(*Deletion, Erased().Error);
		Check("a call's refresh refused with 401 token_revoked (account_deleted), no DeleteAccount waiting: wiped, "
			"OnSessionLost, then the waiting calls not_logged_in",
			Refused == ERefused::Deleted && Panel.Wipes == 1 && !Player7Left() && OthersKept() &&
			Rig.Is({L"OnSessionLost (wiped)", L"call made when told: not_logged_in (wiped)", L"call: not_logged_in (wiped)",
				L"second call: not_logged_in (wiped)"}));
	}
	const FGamingPanelError Revoked = Answer(401, TEXT("token_revoked")).Error; // a logout, an operator: not the erasure
	const FGamingPanelError Erasure = Erased().Error;
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0)); // the panel erased the account; the answer was lost
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Check("nothing unconfirmed before the DELETE: a refused refresh logs in again as always",
			Deletion->RefreshRefused(FString(TEXT("7")), Revoked, Panel.WipeFiles()) == ERefused::LogInAgain && Panel.Wipes == 0);
		Panel.Delete(*Deletion);
		Check("the DELETE is kept (player and token) where the session is kept before it is sent",
			Panel.KeptBeforeSend.Num() == 1 && Panel.KeptBeforeSend[0] == 1);
		Check("its answer lost: the error, nothing wiped, still kept", Panel.bDone && !Panel.bOk && Panel.Wipes == 0 &&
			Panel.KeptPlayer == TEXT("7") && Panel.KeptToken == TEXT("access-1"));
		const FGamingPanelError Others[] = { Answer(401, TEXT("refresh_token_reused")).Error, Answer(401, TEXT("token_expired")).Error,
			Answer(401, TEXT("invalid_token")).Error, Answer(403, TEXT("player_banned")).Error };
		for (const FGamingPanelError& Other : Others)
		{
			Check("a refresh refused otherwise meanwhile: no login, the session left as it is, nothing wiped, still kept",
				Deletion->RefreshRefused(FString(TEXT("7")), Other, Panel.WipeFiles()) == ERefused::KeepSession && Panel.Wipes == 0 &&
				Player7Left() && Panel.KeptPlayer == TEXT("7"));
		}
		Check("another player's refused refresh: logs in again as always",
			Deletion->RefreshRefused(FString(TEXT("8")), Revoked, Panel.WipeFiles()) == ERefused::LogInAgain && Panel.Wipes == 0);
		Check("then another call's refresh refused with 401 token_revoked (account_deleted): the account is gone, no login",
			Deletion->RefreshRefused(FString(TEXT("7")), Erasure, Panel.WipeFiles()) == ERefused::Deleted);
		FString Token;
		Check("... wiped once (the player's files and the session file, no other player's), nothing kept, no DELETE sent",
			Panel.Wipes == 1 && !Player7Left() && OthersKept() && Panel.KeptPlayer.IsEmpty() && Panel.KeptToken.IsEmpty() &&
			!Deletion->UnconfirmedToken(FString(TEXT("7")), Token) && Panel.Sent.Num() == 1 && Panel.RenewedWithoutLoginFor.Num() == 0);
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.bHoldDelays = true;
		Panel.Script.Add(Answer(0));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		bool bJoinedDone = false;
		bool bJoinedOk = false;
		Deletion->Delete(FString(TEXT("7")), FString(TEXT("access-2")), Panel.WipeFiles(), [&](bool bInOk, const FGamingPanelError&)
		{
			bJoinedDone = true;
			bJoinedOk = bInOk;
		});
		Check("a second Delete while one waits to resend joins it: one DELETE out", Panel.Sent.Num() == 1 && Panel.Held.Num() == 1 && !Panel.bDone);
		Check("a refresh refused with 401 token_revoked (account_deleted) while it waits: the account is gone",
			Deletion->RefreshRefused(FString(TEXT("7")), Erasure, Panel.WipeFiles()) == ERefused::Deleted);
		Check("... every Delete waiting hears OnDone(true), wiped once", Panel.bDone && Panel.bOk && bJoinedDone && bJoinedOk && Panel.Wipes == 1 &&
			!Player7Left());
		for (TFunction<void()>& Then : Panel.Held)
		{
			Then();
		}
		Check("... and its resend never goes", Panel.Sent.Num() == 1 && Panel.Wipes == 1);
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));                             // erased, the answer lost
		Panel.Script.Add(Erased());   // the resend after the restart
		Panel.Delete(*Panel.Deletion(0));
		TSharedRef<FGamingPanelAccountDeletion> Restarted = Panel.Restarted(2);
		FString Token;
		Check("after a restart the unconfirmed DELETE is back with its token", Restarted->UnconfirmedToken(FString(TEXT("7")), Token) &&
			Token == TEXT("access-1"));
		Check("after a restart a refresh refused otherwise: no login, nothing wiped",
			Restarted->RefreshRefused(FString(TEXT("7")), Answer(401, TEXT("refresh_token_reused")).Error, Panel.WipeFiles()) == ERefused::KeepSession &&
			Panel.Wipes == 0);
		Panel.Delete(*Restarted, TEXT("access-2"));
		Check("after a restart Delete resends with the token it went with; its 401 token_revoked (account_deleted) is done, no renewal",
			Panel.Sent.Num() == 2 && Panel.Sent[1].AccessToken == TEXT("access-1") && IsConfirmed(Panel.Sent[1]) && Panel.bDone && Panel.bOk &&
			Panel.Wipes == 1 && !Player7Left() && Panel.Renewals == 0 && Panel.RenewedWithoutLoginFor.Num() == 0 && Panel.KeptPlayer.IsEmpty());
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));
		Panel.Script.Add(Erased());
		Panel.Delete(*Panel.Deletion(0));
		TSharedRef<FGamingPanelAccountDeletion> Restarted = Panel.Restarted(2);
		Panel.Resume(*Restarted);
		Check("after a restart the next call's Resume resends the DELETE with its token; its 401 token_revoked (account_deleted) is done",
			Panel.Sent.Num() == 2 && Panel.Sent[1].AccessToken == TEXT("access-1") && Panel.bDone && Panel.bOk && Panel.Wipes == 1 && !Player7Left());
	}
	{
		const FGamingPanelAccountAnswer Transients[] = { Answer(503, TEXT("service_unavailable")), Answer(0), Answer(500, TEXT("server_error")) };
		for (const FGamingPanelAccountAnswer& Transient : Transients)
		{
			FillDisk();
			const size_t Before = Disk.Files.size();
			FFakePanel Panel;
			Panel.Script.Add(Answer(0));
			Panel.Script.Add(Transient); // Resume after a restart
			Panel.Script.Add(Transient); // Delete after it
			Panel.Script.Add(Transient); // ... sent again once
			Panel.Script.Add(Erased());
			Panel.Delete(*Panel.Deletion(0));
			TSharedRef<FGamingPanelAccountDeletion> Restarted = Panel.Restarted(1);
			Panel.Resume(*Restarted);
			FString Token;
			Check("a 5xx or no answer to the resumed DELETE: the error, sent once, nothing wiped, still kept with its token",
				Panel.bDone && !Panel.bOk && Panel.Error.Status == Transient.Error.Status && Panel.Sent.Num() == 2 && Panel.Wipes == 0 &&
				Disk.Files.size() == Before && Panel.KeptPlayer == TEXT("7") && Panel.KeptToken == TEXT("access-1") &&
				Restarted->UnconfirmedToken(FString(TEXT("7")), Token) && Token == TEXT("access-1"));
			Panel.Delete(*Restarted, TEXT("access-2"));
			Check("a 5xx or no answer to Delete's resends: the error, nothing wiped, still kept",
				Panel.bDone && !Panel.bOk && Panel.Sent.Num() == 4 && Panel.Sent[3].AccessToken == TEXT("access-1") && Panel.Wipes == 0 &&
				Disk.Files.size() == Before && Panel.KeptToken == TEXT("access-1"));
			Check("... and a refused refresh meanwhile still logs in no one",
				Restarted->RefreshRefused(FString(TEXT("7")), Answer(401, TEXT("token_expired")).Error, Panel.WipeFiles()) == ERefused::KeepSession);
			Panel.Resume(*Panel.Restarted(0));
			Check("the next launch's resend finishes it", Panel.Sent.Num() == 5 && Panel.Sent[4].AccessToken == TEXT("access-1") && Panel.bOk &&
				Panel.Wipes == 1 && !Player7Left());
		}
	}
	{
		const FGamingPanelAccountAnswer Refusals[] = { Answer(403, TEXT("forbidden")), Answer(400, TEXT("confirmation_required")) };
		for (const FGamingPanelAccountAnswer& Refusal : Refusals)
		{
			FillDisk();
			FFakePanel Panel;
			Panel.Script.Add(Refusal);
			TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
			Panel.Delete(*Deletion);
			Check("a DELETE refused as it came (403, 400) is no longer kept: a refused refresh logs in again as always",
				Panel.bDone && !Panel.bOk && Panel.KeptBeforeSend[0] == 1 && Panel.KeptPlayer.IsEmpty() &&
				Deletion->RefreshRefused(FString(TEXT("7")), Revoked, Panel.WipeFiles()) == ERefused::LogInAgain && Panel.Wipes == 0);
		}
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.bHoldDelays = true;
		Panel.Script.Add(Answer(0));
		Panel.Script.Add(Answer(401, TEXT("token_revoked"))); // the logout revoked the session
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Deletion->EndSession(FString(TEXT("7"))); // Logout while it waits to resend
		for (TFunction<void()>& Then : Panel.Held)
		{
			Then();
		}
		FString Player;
		FString Platform;
		Check("EndSession (a logout): the Delete ends with not_logged_in, nothing resent, nothing wiped",
			Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") && Panel.Sent.Num() == 1 && Panel.Wipes == 0 && Player7Left());
		Check("EndSession (a logout): the DELETE stays pending, kept where the session was kept",
			Deletion->Pending(Player, Platform) && Player == TEXT("7") && Panel.KeptPlayer == TEXT("7"));
	}
	{
		// A DELETE whose answer was lost, resent after the session was revoked otherwise (an operator, a logout elsewhere).
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));
		Panel.Script.Add(Answer(401, TEXT("token_revoked")));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		FString Player;
		FString Platform;
		Check("401 token_revoked without account_deleted on the resend: not done, nothing wiped",
			Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") && Panel.Wipes == 0 && Player7Left());
		Check("... the session lost (LoseSession for player 7), the DELETE still pending and kept",
			Panel.LostSessions.Num() == 1 && Panel.LostSessions[0] == TEXT("7") && Deletion->Pending(Player, Platform) && Player == TEXT("7") &&
			Panel.KeptPlayer == TEXT("7"));
	}
	{
		// The renewal after a resend's 401 token_expired answered a plain 401 token_revoked: the session is over otherwise.
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(502, TEXT("bad_gateway")));
		Panel.Script.Add(Answer(401, TEXT("token_expired")));
		Panel.RefreshScript.Add(Revoked);
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(0);
		Panel.Delete(*Deletion);
		Panel.Delete(*Deletion, TEXT("access-2"));
		FString Player;
		FString Platform;
		Check("the renewal refused with 401 token_revoked without account_deleted: not done, nothing wiped, the session lost, still pending",
			Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") && Panel.Wipes == 0 && Player7Left() &&
			Panel.LostSessions.Num() == 1 && Deletion->Pending(Player, Platform) && Player == TEXT("7"));
	}
	{
		FillDisk();
		FFakePanel Panel;
		Panel.bHoldDelays = true;
		Panel.Script.Add(Answer(0));
		TSharedRef<FGamingPanelAccountDeletion> Deletion = Panel.Deletion(2);
		Panel.Delete(*Deletion);
		Check("a refresh refused with 401 token_revoked without account_deleted while a DELETE is unconfirmed: the session is lost",
			Deletion->RefreshRefused(FString(TEXT("7")), Revoked, Panel.WipeFiles()) == ERefused::SessionLost);
		for (TFunction<void()>& Then : Panel.Held)
		{
			Then();
		}
		FString Player;
		FString Platform;
		Check("... nothing wiped, the session lost (LoseSession), the Delete waiting ends with not_logged_in, nothing resent, the DELETE still pending",
			Panel.LostSessions.Num() == 1 && Panel.Wipes == 0 && Player7Left() && Panel.bDone && !Panel.bOk && Panel.Error.Code == TEXT("not_logged_in") && Panel.Sent.Num() == 1 &&
			Deletion->Pending(Player, Platform) && Player == TEXT("7"));
		Check("401 token_revoked with account_deleted for a player with no DELETE pending: the account is gone all the same",
			Deletion->RefreshRefused(FString(TEXT("8")), Erasure, []() {}) == ERefused::Deleted);
	}
	{
		// The DELETE left pending after its session ended (a logout, an expired refresh token); the next login settles it.
		using ESettled = FGamingPanelAccountDeletion::ESettled;
		FillDisk();
		FFakePanel Panel;
		Panel.Script.Add(Answer(0));
		TSharedRef<FGamingPanelAccountDeletion> First = Panel.Deletion(0);
		First->Delete(FString(TEXT("7")), FString(TEXT("access-1")), Panel.WipeFiles(), [](bool, const FGamingPanelError&) {}, FString(TEXT("steam")));
		First->EndSession(FString(TEXT("7")));
		TSharedRef<FGamingPanelAccountDeletion> Restarted = Panel.Deletion(0);
		Restarted->Restore(FString(TEXT("7")), FString(TEXT("access-1")), FString(TEXT("steam")));
		FString Player;
		FString Platform;
		Check("after a restart with no session the DELETE is still pending, with its platform",
			Restarted->Pending(Player, Platform) && Player == TEXT("7") && Platform == TEXT("steam"));
		FString Old;
		Check("a login as another existing player: says nothing, still pending",
			Restarted->SettleAtLogin(FString(TEXT("8")), false, FString(TEXT("steam")), Old) == ESettled::Nothing && Restarted->Pending(Player, Platform));
		Check("a login that created a player on another platform: says nothing, still pending",
			Restarted->SettleAtLogin(FString(TEXT("9")), true, FString(TEXT("dev")), Old) == ESettled::Nothing && Restarted->Pending(Player, Platform));
		Check("a login that created a player on the DELETE's platform: the old player was erased, forgotten",
			Restarted->SettleAtLogin(FString(TEXT("9")), true, FString(TEXT("steam")), Old) == ESettled::Deleted && Old == TEXT("7") &&
			!Restarted->Pending(Player, Platform) && Panel.KeptPlayer.IsEmpty());
		Check("... and nothing sent", Panel.Sent.Num() == 1);

		TSharedRef<FGamingPanelAccountDeletion> Again = Panel.Deletion(0);
		Again->Restore(FString(TEXT("7")), FString(TEXT("access-1")), FString(TEXT("steam")));
		Check("a login answering the same player: not done (the account exists), forgotten, nothing sent",
			Again->SettleAtLogin(FString(TEXT("7")), false, FString(TEXT("steam")), Old) == ESettled::NotDone && Old == TEXT("7") &&
			!Again->Pending(Player, Platform) && Panel.Sent.Num() == 1);
	}
	std::printf("unreal account deletion: %d passed, %d failed\n", Passed, Failed);
	return Failed == 0 ? 0 : 1;
}
