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
	TFunction<void()> Wipe;
	FOnDone OnDone;
	FSend Send;
	FRenew Renew;
	FRenewWithoutLogin RenewWithoutLogin;
	FDelay Delay;
	int32 MaxRetries = 0;
	TSharedRef<FUnconfirmed> Unconfirmed;
	/** A DELETE went out and may have arrived though no answer said so: a 401 token_revoked now means the account is gone. */
	bool bSent = false;
	bool bRenewed = false;
	bool bRenewedAfterSend = false;
	int32 Retries = 0;

	explicit FRun(TSharedRef<FUnconfirmed> InUnconfirmed) : Unconfirmed(InUnconfirmed) {}
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

	/** 401 token_revoked: the session was revoked, as the erasure revokes every session of the player. */
	bool IsRevoked(const FGamingPanelError& Error)
	{
		return Error.Status == 401 && Error.Code == TEXT("token_revoked");
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
	int32 InMaxRetries)
	: Send(MoveTemp(InSend))
	, Renew(MoveTemp(InRenew))
	, RenewWithoutLogin(MoveTemp(InRenewWithoutLogin))
	, Delay(MoveTemp(InDelay))
	, MaxRetries(InMaxRetries < 0 ? 0 : InMaxRetries)
	, Unconfirmed(MakeShared<FUnconfirmed>())
{
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
	if (PlayerId.IsEmpty() || Unconfirmed->PlayerId != PlayerId)
	{
		return false;
	}
	OutToken = Unconfirmed->AccessToken;
	return true;
}

void FGamingPanelAccountDeletion::Delete(const FString& PlayerId, const FString& AccessToken, TFunction<void()> Wipe, FOnDone OnDone)
{
	TSharedRef<FRun> Run = MakeShared<FRun>(Unconfirmed);
	Run->PlayerId = PlayerId;
	Run->AccessToken = AccessToken;
	// Once a DELETE of this player went out unanswered, it is resent with its own token; it is renewed only after a
	// 401 token_expired / invalid_token, and never with a silent login (after an erasure it would make a new account).
	FString Earlier;
	if (UnconfirmedToken(PlayerId, Earlier))
	{
		Run->AccessToken = Earlier;
		Run->bSent = true;
	}
	Run->Wipe = MoveTemp(Wipe);
	Run->OnDone = MoveTemp(OnDone);
	Run->Send = Send;
	Run->Renew = Renew;
	Run->RenewWithoutLogin = RenewWithoutLogin;
	Run->Delay = Delay;
	Run->MaxRetries = MaxRetries;
	Attempt(Run);
}

void FGamingPanelAccountDeletion::Attempt(TSharedRef<FRun> Run)
{
	Run->Send(DeleteRequest(Run->AccessToken), [Run](const FGamingPanelAccountAnswer& Answer)
	{
		Answered(Run, Answer);
	});
}

void FGamingPanelAccountDeletion::Answered(TSharedRef<FRun> Run, const FGamingPanelAccountAnswer& Answer)
{
	const int32 Status = Answer.bOk ? Answer.Status : Answer.Error.Status;
	const bool bDone = (Answer.bOk && Status == 204) || (!Answer.bOk && Run->bSent && IsRevoked(Answer.Error));
	if (bDone)
	{
		Done(Run);
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
			if (bOk)
			{
				Run->AccessToken = NewToken;
				Attempt(Run);
			}
			else if (IsRevoked(RenewError))
			{
				Done(Run);
			}
			else
			{
				Run->OnDone(false, RenewError); // nothing is known of the DELETE: nothing wiped
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
		Run->Renew(Run->AccessToken, [Run](bool bOk, const FString& NewToken, const FGamingPanelError& RenewError)
		{
			if (!bOk)
			{
				Run->OnDone(false, RenewError);
				return;
			}
			Run->AccessToken = NewToken;
			Attempt(Run);
		});
		return;
	}
	if (!(Error.IsTransient() || MayHaveArrived(Status)))
	{
		Run->OnDone(false, Error); // 400 confirmation_required, 403...: to the game as it came
		return;
	}
	if (MayHaveArrived(Status))
	{
		Run->bSent = true;
		Run->Unconfirmed->PlayerId = Run->PlayerId;
		Run->Unconfirmed->AccessToken = Run->AccessToken;
	}
	const float Wait = FGamingPanelHttp::RetryDelaySeconds(Error, Run->Retries);
	if (Run->Retries >= Run->MaxRetries || Wait > 30.f)
	{
		Run->OnDone(false, Error); // nothing wiped; the next Delete resends a DELETE that went out
		return;
	}
	Run->Retries++;
	Run->Delay(Wait, [Run]() { Attempt(Run); });
}

void FGamingPanelAccountDeletion::Done(TSharedRef<FRun> Run)
{
	if (Run->Unconfirmed->PlayerId == Run->PlayerId)
	{
		Run->Unconfirmed->PlayerId.Reset();
		Run->Unconfirmed->AccessToken.Reset();
	}
	if (Run->Wipe)
	{
		Run->Wipe();
	}
	Run->OnDone(true, FGamingPanelError());
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
