// Gaming Panel Unreal example: account deletion's decisions (GamingPanelAccount.h) and the deleted player's files
// (GamingPanelFiles::MarkErased / EraseFolder in GamingPanelHttp.h). Only IFileManager and Core containers, so
// scripts/check_examples.sh builds and runs this file with Tests/AccountDeletionTest.cpp (fake panel, fake files).
#include "GamingPanelAccount.h"
#include "GamingPanelHttp.h"
#include "HAL/CriticalSection.h"
#include "HAL/FileManager.h"
#include "Misc/ScopeLock.h"

// ------------------------------------------------------------------------------------------------ deletion

struct FGamingPanelAccountDeletion::FRun
{
	FString PlayerId;
	FString AccessToken;
	FString Platform;
	TFunction<void()> Wipe;
	/** The Delete (and Resume) calls waiting for this run's outcome. */
	TArray<FOnDone> Waiters;
	FSend Send;
	FRenew Renew;
	FRenewWithoutLogin RenewWithoutLogin;
	FDelay Delay;
	int32 MaxRetries = 0;
	TSharedRef<FShared> Shared;
	/** A DELETE went out and may have arrived though no answer said so: a 401 token_revoked now means the account is gone. */
	bool bSent = false;
	bool bRenewed = false;
	bool bRenewedAfterSend = false;
	int32 Retries = 0;
	/** Answered (confirmed elsewhere too): whatever is still out for it (an answer, a wait, a renewal) changes nothing. */
	bool bFinished = false;
	/**
	 * RefreshRefused is deciding its outcome (the erasure: Wipe, then OnDone(true); the session lost: LoseSession, then
	 * OnDone(false, not_logged_in)): what the subsystem answers meanwhile to what the run waits for (it ends the refresh in
	 * flight, and the DELETE's renewal with it, with not_logged_in) sends and decides nothing, so the waiters hear the
	 * outcome after the wipe, or after OnSessionLost.
	 */
	bool bDeciding = false;

	explicit FRun(TSharedRef<FShared> InShared) : Shared(InShared) {}
};

namespace
{
	FGamingPanelError AccountError(int32 Status, const TCHAR* Code, const TCHAR* Detail)
	{
		FGamingPanelError Error;
		Error.Status = Status;
		Error.Code = Code;
		Error.Detail = Detail;
		return Error;
	}

	/** 401 token_revoked, with or without account_deleted. */
	bool IsRevoked(const FGamingPanelError& Error)
	{
		return Error.Status == 401 && Error.Code == TEXT("token_revoked");
	}

	FGamingPanelError SessionOver()
	{
		return AccountError(401, TEXT("not_logged_in"),
			TEXT("The session the account's deletion was sent with ended before the panel confirmed it; the next login settles it."));
	}

	/** The DELETE may have reached the panel without its answer reaching us (a 429 comes before it is looked at). */
	bool MayHaveArrived(int32 Status)
	{
		return Status == 0 || Status == 408 || Status >= 500 || (Status >= 200 && Status < 300);
	}

	/** RFC 3986 percent-encoding of an ASCII query value: all but the unreserved characters, so a space is %20, not +. */
	FString PercentEncode(const TCHAR* Text)
	{
		FString Out;
		for (const TCHAR* Char = Text; *Char != 0; ++Char)
		{
			const TCHAR C = *Char;
			const bool bUnreserved = (C >= TEXT('A') && C <= TEXT('Z')) || (C >= TEXT('a') && C <= TEXT('z')) ||
				(C >= TEXT('0') && C <= TEXT('9')) || C == TEXT('-') || C == TEXT('.') || C == TEXT('_') || C == TEXT('~');
			if (bUnreserved)
			{
				Out += C;
			}
			else
			{
				Out += FString::Printf(TEXT("%%%02X"), static_cast<uint32>(C));
			}
		}
		return Out;
	}
}

FGamingPanelAccountDeletion::FGamingPanelAccountDeletion(FSend InSend, FRenew InRenew, FRenewWithoutLogin InRenewWithoutLogin, FDelay InDelay,
	int32 InMaxRetries, FPersist InPersist, FLoseSession InLoseSession)
	: Send(MoveTemp(InSend))
	, Renew(MoveTemp(InRenew))
	, RenewWithoutLogin(MoveTemp(InRenewWithoutLogin))
	, Delay(MoveTemp(InDelay))
	, MaxRetries(InMaxRetries < 0 ? 0 : InMaxRetries)
	, Shared(MakeShared<FShared>())
{
	Shared->Persist = MoveTemp(InPersist);
	Shared->LoseSession = MoveTemp(InLoseSession);
}

FGamingPanelAccountRequest FGamingPanelAccountDeletion::DeleteRequest(const FString& AccessToken)
{
	FGamingPanelAccountRequest Request;
	Request.Verb = TEXT("DELETE");
	Request.Path = FString(TEXT("player?confirm=")) + PercentEncode(Confirmation);
	Request.AccessToken = AccessToken;
	return Request;
}

bool FGamingPanelAccountDeletion::UnconfirmedToken(const FString& PlayerId, FString& OutToken) const
{
	if (PlayerId.IsEmpty() || Shared->PlayerId != PlayerId)
	{
		return false;
	}
	OutToken = Shared->AccessToken;
	return true;
}

bool FGamingPanelAccountDeletion::Pending(FString& OutPlayerId, FString& OutPlatform) const
{
	if (Shared->PlayerId.IsEmpty())
	{
		return false;
	}
	OutPlayerId = Shared->PlayerId;
	OutPlatform = Shared->Platform;
	return true;
}

void FGamingPanelAccountDeletion::Restore(const FString& PlayerId, const FString& AccessToken, const FString& Platform)
{
	if (PlayerId.IsEmpty() || AccessToken.IsEmpty())
	{
		return;
	}
	Shared->PlayerId = PlayerId;
	Shared->AccessToken = AccessToken;
	Shared->Platform = Platform;
}

void FGamingPanelAccountDeletion::EndSession(const FString& PlayerId)
{
	if (PlayerId.IsEmpty())
	{
		return;
	}
	for (const TSharedRef<FRun>& Run : RunsOf(*Shared, PlayerId))
	{
		Finish(Run, false, SessionOver());
	}
}

FGamingPanelAccountDeletion::ESettled FGamingPanelAccountDeletion::SettleAtLogin(const FString& NewPlayerId, bool bCreated,
	const FString& Platform, FString& OutPlayerId)
{
	if (Shared->PlayerId.IsEmpty() || NewPlayerId.IsEmpty())
	{
		return ESettled::Nothing;
	}
	ESettled Outcome = ESettled::Nothing;
	if (Shared->PlayerId == NewPlayerId)
	{
		Outcome = ESettled::NotDone;
	}
	else if (bCreated && (Shared->Platform.IsEmpty() || Shared->Platform == Platform))
	{
		Outcome = ESettled::Deleted; // the erasure deleted the old player's identities: the same platform account made a new one
	}
	else
	{
		return ESettled::Nothing; // someone else's account: says nothing of the DELETE
	}
	OutPlayerId = Shared->PlayerId;
	for (const TSharedRef<FRun>& Run : RunsOf(*Shared, OutPlayerId))
	{
		Finish(Run, false, SessionOver());
	}
	Keep(*Shared, FString(), FString());
	return Outcome;
}

FGamingPanelAccountDeletion::ERefreshRefused FGamingPanelAccountDeletion::RefreshRefused(const FString& PlayerId, const FGamingPanelError& Error,
	TFunction<void()> Wipe)
{
	if (PlayerId.IsEmpty())
	{
		return ERefreshRefused::LogInAgain;
	}
	if (Error.IsAccountErased())
	{
		// The panel says the account was erased (by the DELETE that went out, or from elsewhere).
		if (Shared->PlayerId == PlayerId)
		{
			Keep(*Shared, FString(), FString());
		}
		const TArray<TSharedRef<FRun>> Runs = Deciding(*Shared, PlayerId);
		if (Wipe)
		{
			Wipe();
		}
		for (const TSharedRef<FRun>& Run : Runs)
		{
			Run->bDeciding = false;
			Finish(Run, true, FGamingPanelError());
		}
		return ERefreshRefused::Deleted;
	}
	if (Shared->PlayerId != PlayerId)
	{
		return ERefreshRefused::LogInAgain;
	}
	if (!IsRevoked(Error))
	{
		return ERefreshRefused::KeepSession; // expired, reused, banned: says nothing of the DELETE
	}
	// Revoked, not by the erasure: the session is over (ended first, so nothing the waiters start goes out with it, and
	// the game has heard OnSessionLost by the time they hear not_logged_in); the DELETE stays pending for the next login.
	const TArray<TSharedRef<FRun>> Runs = Deciding(*Shared, PlayerId);
	if (Shared->LoseSession)
	{
		Shared->LoseSession(PlayerId);
	}
	for (const TSharedRef<FRun>& Run : Runs)
	{
		Run->bDeciding = false;
		Finish(Run, false, SessionOver());
	}
	return ERefreshRefused::SessionLost;
}

TArray<TSharedRef<FGamingPanelAccountDeletion::FRun>> FGamingPanelAccountDeletion::RunsOf(FShared& InShared, const FString& PlayerId)
{
	TArray<TSharedRef<FRun>> Runs;
	for (int32 Index = InShared.Running.Num() - 1; Index >= 0; --Index)
	{
		const TSharedPtr<FRun> Run = InShared.Running[Index].Pin();
		if (!Run.IsValid())
		{
			InShared.Running.RemoveAt(Index); // its callbacks were dropped (the subsystem went away)
		}
		else if (Run->PlayerId == PlayerId)
		{
			Runs.Add(Run.ToSharedRef());
		}
	}
	return Runs;
}

TArray<TSharedRef<FGamingPanelAccountDeletion::FRun>> FGamingPanelAccountDeletion::Deciding(FShared& InShared, const FString& PlayerId)
{
	TArray<TSharedRef<FRun>> Runs = RunsOf(InShared, PlayerId);
	for (const TSharedRef<FRun>& Run : Runs)
	{
		Run->bDeciding = true;
	}
	return Runs;
}

bool FGamingPanelAccountDeletion::Join(const FString& PlayerId, FOnDone& OnDone)
{
	TArray<TSharedRef<FRun>> Runs = RunsOf(*Shared, PlayerId);
	if (Runs.Num() == 0)
	{
		return false;
	}
	Runs[0]->Waiters.Add(MoveTemp(OnDone));
	return true;
}

void FGamingPanelAccountDeletion::Delete(const FString& PlayerId, const FString& AccessToken, TFunction<void()> Wipe, FOnDone OnDone,
	const FString& Platform)
{
	if (Join(PlayerId, OnDone))
	{
		return; // one DELETE of a player out at a time
	}
	// Once a DELETE of this player went out unanswered, it is resent with its own token; it is renewed only after a
	// 401 token_expired / invalid_token, and never with a silent login (after an erasure it would make a new account).
	FString Earlier;
	if (UnconfirmedToken(PlayerId, Earlier))
	{
		Start(PlayerId, Earlier, Shared->Platform, true, MaxRetries, MoveTemp(Wipe), MoveTemp(OnDone));
		return;
	}
	Start(PlayerId, AccessToken, Platform, false, MaxRetries, MoveTemp(Wipe), MoveTemp(OnDone));
}

void FGamingPanelAccountDeletion::Resume(const FString& PlayerId, TFunction<void()> Wipe, FOnDone OnDone)
{
	if (Join(PlayerId, OnDone))
	{
		return;
	}
	FString Earlier;
	if (!UnconfirmedToken(PlayerId, Earlier))
	{
		OnDone(false, AccountError(401, TEXT("not_logged_in"), TEXT("No DELETE of this player is unconfirmed.")));
		return;
	}
	Start(PlayerId, Earlier, Shared->Platform, true, 0, MoveTemp(Wipe), MoveTemp(OnDone));
}

void FGamingPanelAccountDeletion::Start(const FString& PlayerId, const FString& AccessToken, const FString& Platform, bool bSent,
	int32 Retries, TFunction<void()> Wipe, FOnDone OnDone)
{
	TSharedRef<FRun> Run = MakeShared<FRun>(Shared);
	Run->PlayerId = PlayerId;
	Run->AccessToken = AccessToken;
	Run->Platform = Platform;
	Run->bSent = bSent;
	Run->Wipe = MoveTemp(Wipe);
	Run->Waiters.Add(MoveTemp(OnDone));
	Run->Send = Send;
	Run->Renew = Renew;
	Run->RenewWithoutLogin = RenewWithoutLogin;
	Run->Delay = Delay;
	Run->MaxRetries = Retries;
	Shared->Running.Add(TWeakPtr<FRun>(Run));
	Attempt(Run);
}

void FGamingPanelAccountDeletion::Keep(FShared& InShared, const FString& PlayerId, const FString& AccessToken, const FString& Platform)
{
	InShared.PlayerId = PlayerId;
	InShared.AccessToken = AccessToken;
	InShared.Platform = Platform;
	if (InShared.Persist)
	{
		InShared.Persist(PlayerId, AccessToken);
	}
}

void FGamingPanelAccountDeletion::Attempt(TSharedRef<FRun> Run)
{
	if (Run->bFinished || Run->bDeciding)
	{
		return;
	}
	Keep(*Run->Shared, Run->PlayerId, Run->AccessToken, Run->Platform); // kept before it goes: after a restart too, no silent login
	Run->Send(DeleteRequest(Run->AccessToken), [Run](const FGamingPanelAccountAnswer& Answer)
	{
		Answered(Run, Answer);
	});
}

void FGamingPanelAccountDeletion::Answered(TSharedRef<FRun> Run, const FGamingPanelAccountAnswer& Answer)
{
	if (Run->bFinished)
	{
		return;
	}
	const int32 Status = Answer.bOk ? Answer.Status : Answer.Error.Status;
	const bool bDone = (Answer.bOk && Status == 204) || (!Answer.bOk && Answer.Error.IsAccountErased());
	if (bDone)
	{
		Done(Run);
		return;
	}
	if (!Answer.bOk && Run->bSent && IsRevoked(Answer.Error))
	{
		Lost(Run); // revoked otherwise (a logout elsewhere, an operator): not the erasure
		return;
	}
	// A 2xx that is not the panel's 204 (a captive portal's page) is no answer: the DELETE may not have arrived.
	const FGamingPanelError Error = Answer.bOk
		? AccountError(Status, TEXT("invalid_response"), TEXT("DELETE player answered a 2xx that is not the panel's 204."))
		: Answer.Error;

	if (Run->bSent && !Run->bRenewedAfterSend && Status == 401 &&
		(Error.Code == TEXT("token_expired") || Error.Code == TEXT("invalid_token")))
	{
		// Expiry is checked before revocation: this says nothing of the DELETE. Ask the refresh, with no silent login
		// (it would make a new account): a revoked session is the erasure, new tokens mean the account is still there.
		Run->bRenewedAfterSend = true;
		Run->RenewWithoutLogin(Run->PlayerId, Run->AccessToken, [Run](bool bOk, const FString& NewToken, const FGamingPanelError& RenewError)
		{
			if (Run->bFinished)
			{
				return;
			}
			if (bOk)
			{
				Run->AccessToken = NewToken;
				Attempt(Run);
			}
			else if (RenewError.IsAccountErased())
			{
				Done(Run);
			}
			else if (IsRevoked(RenewError))
			{
				Lost(Run);
			}
			else
			{
				Fail(Run, RenewError); // nothing is known of the DELETE: nothing wiped, it stays unconfirmed
			}
		});
		return;
	}
	const bool bTokenProblem = Status == 401 && (Error.Code == TEXT("token_expired") || Error.Code == TEXT("token_revoked") ||
		Error.Code == TEXT("invalid_token"));
	if (bTokenProblem && !Run->bRenewed && !Run->bSent)
	{
		// Refused before anything was deleted: renew the session (the same player only) and send once more.
		Run->bRenewed = true;
		if (Run->Shared->PlayerId == Run->PlayerId)
		{
			Keep(*Run->Shared, FString(), FString()); // nothing is unconfirmed: the renewal may log in as always
		}
		Run->Renew(Run->AccessToken, [Run](bool bOk, const FString& NewToken, const FGamingPanelError& RenewError)
		{
			if (Run->bFinished)
			{
				return;
			}
			if (!bOk)
			{
				Fail(Run, RenewError);
				return;
			}
			Run->AccessToken = NewToken;
			Attempt(Run);
		});
		return;
	}
	if (MayHaveArrived(Status))
	{
		Run->bSent = true;
	}
	if (!(Error.IsTransient() || MayHaveArrived(Status)))
	{
		Fail(Run, Error); // 400 confirmation_required, 403...: to the game as it came
		return;
	}
	const float Wait = FGamingPanelHttp::RetryDelaySeconds(Error, Run->Retries);
	if (Run->Retries >= Run->MaxRetries || Wait > 30.f)
	{
		Fail(Run, Error); // nothing wiped; the next Delete (or call) resends a DELETE that went out
		return;
	}
	Run->Retries++;
	Run->Delay(Wait, [Run]() { Attempt(Run); });
}

void FGamingPanelAccountDeletion::Done(TSharedRef<FRun> Run)
{
	if (Run->bFinished || Run->bDeciding)
	{
		return;
	}
	if (Run->Shared->PlayerId == Run->PlayerId)
	{
		Keep(*Run->Shared, FString(), FString());
	}
	if (Run->Wipe)
	{
		Run->Wipe();
	}
	Finish(Run, true, FGamingPanelError());
}

void FGamingPanelAccountDeletion::Fail(TSharedRef<FRun> Run, const FGamingPanelError& Error)
{
	if (Run->bFinished || Run->bDeciding)
	{
		return;
	}
	// No DELETE of this run may have arrived (each was refused as it came): nothing is unconfirmed any more.
	if (!Run->bSent && Run->Shared->PlayerId == Run->PlayerId)
	{
		Keep(*Run->Shared, FString(), FString());
	}
	Finish(Run, false, Error);
}

void FGamingPanelAccountDeletion::Lost(TSharedRef<FRun> Run)
{
	if (Run->bFinished || Run->bDeciding)
	{
		return;
	}
	// The session ends first: nothing the waiters start goes out with it.
	if (Run->Shared->LoseSession)
	{
		Run->Shared->LoseSession(Run->PlayerId);
	}
	Finish(Run, false, SessionOver());
}

void FGamingPanelAccountDeletion::Finish(TSharedRef<FRun> Run, bool bOk, const FGamingPanelError& Error)
{
	if (Run->bFinished || Run->bDeciding)
	{
		return;
	}
	Run->bFinished = true;
	TArray<TWeakPtr<FRun>>& Running = Run->Shared->Running;
	for (int32 Index = 0; Index < Running.Num(); ++Index)
	{
		if (Running[Index].Pin().Get() == &Run.Get())
		{
			Running.RemoveAt(Index);
			break;
		}
	}
	TArray<FOnDone> Waiters = MoveTemp(Run->Waiters);
	Run->Waiters.Reset();
	for (FOnDone& Waiter : Waiters)
	{
		Waiter(bOk, Error);
	}
}

// ------------------------------------------------------------------------------------------------ files

namespace
{
	FCriticalSection ErasedLock;
	TArray<FString>& ErasedFolders()
	{
		static TArray<FString> Folders;
		return Folders;
	}
}

void GamingPanelFiles::MarkErased(const FString& Folder)
{
	FScopeLock Lock(&ErasedLock); // SaveText runs on the analytics writer's thread too
	if (!ErasedFolders().Contains(Folder))
	{
		ErasedFolders().Add(Folder);
	}
}

bool GamingPanelFiles::IsErased(const FString& Path)
{
	FScopeLock Lock(&ErasedLock);
	for (const FString& Folder : ErasedFolders())
	{
		if (Path == Folder || Path.StartsWith(Folder + TEXT("/")))
		{
			return true;
		}
	}
	return false;
}

bool GamingPanelFiles::EraseFolder(const FString& Folder)
{
	MarkErased(Folder);
	return IFileManager::Get().DeleteDirectory(*Folder, false, true);
}

bool GamingPanelFiles::DeleteFile(const FString& Path)
{
	const FString Temporary = Path + TEXT(".tmp");
	IFileManager::Get().Delete(*Path, false, true, true);
	IFileManager::Get().Delete(*Temporary, false, true, true);
	return !IFileManager::Get().FileExists(*Path) && !IFileManager::Get().FileExists(*Temporary);
}
