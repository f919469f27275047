// Gaming Panel Unreal example: the token refresh's rules (UGamingPanelSubsystem's), without HTTP, JSON or the engine.
// Core types only, so examples/unreal/Tests/CloudSaveQueueTest.cpp builds and runs it with g++, and
// Tests/AccountDeletionTest.cpp wires it as the subsystem does where a session ends while calls wait on it (EndSession).
//
// One refresh at a time: callers that arrive while one is out, its waits included, share its outcome (refresh tokens
// rotate; two refreshes with one token would look like reuse to the panel). Every send of a refresh carries the same
// refresh token. An answer that is neither the token pair nor a refusal sends it again, at most MaxResends times, and
// only while StillWanted (the token is still the session's, or a logout waits for its renewal):
//  - 429, or a 5xx with Retry-After: after the whole Retry-After. The panel answers these before it rotates anything
//    (apps/login/api.py checks the rate limits before it rotates; a 503's transaction rolled back), so the token is
//    still the current one. One over MaxRetryAfterSeconds (30 s, SendAuthorized's limit) is not waited: the refresh
//    ends with that error, RetryAfterSeconds on it.
//  - No answer, 408, another 5xx, a 2xx without the pair (the answer may have been lost after the panel rotated the
//    token): after 1 s, then 2 s, inside the 30 s (REFRESH_REUSE_GRACE_SECONDS) in which the panel answers the retired
//    token with a fresh pair.
// A refusal (FGamingPanelError::EndsSession: 401 invalid_token, token_expired, token_revoked, refresh_token_reused,
// 403 player_banned) is never sent again: the session is over. After a refresh ended without a pair or a refusal (the
// tokens kept), no new one starts for BackoffSeconds unless forced (a call just got a 401: the panel is reachable),
// and none, forced or not, before that answer's Retry-After has passed: callers get its error at once, with
// RetryAfterSeconds the seconds left.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.h"

class FJsonObject;

/** One answer to POST auth/refresh. */
struct FGamingPanelRefreshAnswer
{
	/** The answer holds both tokens, in Json. */
	bool bPair = false;
	TSharedPtr<FJsonObject> Json;
	/** Why not, when !bPair: the panel's error, network_error (no answer), invalid_response (a 2xx without the pair). */
	FGamingPanelError Error;
};

class FGamingPanelTokenRefresh
{
public:
	using FOnDone = TFunction<void(bool bOk, const FGamingPanelError& Error)>;
	using FOnAnswer = TFunction<void(const FGamingPanelRefreshAnswer& Answer)>;
	/** POST auth/refresh with RefreshToken; OnAnswer once, on the game thread, and never after this object is gone. */
	using FSend = TFunction<void(const FString& RefreshToken, FOnAnswer OnAnswer)>;
	/** Then after Seconds, on the game thread, and never after this object is gone. */
	using FDelay = TFunction<void(float Seconds, TFunction<void()> Then)>;

	/** How often one refresh is sent again, whatever the reason. */
	static constexpr int32 MaxResends = 2;
	/** The longest Retry-After a refresh waits before it is sent again (as an authorised call's retry). */
	static constexpr float MaxRetryAfterSeconds = 30.f;
	/** After a refresh ended without a pair or a refusal, callers get its failure for this long (unless forced). */
	static constexpr double BackoffSeconds = 5.0;

	/** NowSeconds: a clock that never goes back (FPlatformTime::Seconds in the plugin). */
	FGamingPanelTokenRefresh(FSend InSend, FDelay InDelay, TFunction<double()> InNowSeconds)
		: Send(MoveTemp(InSend)), Delay(MoveTemp(InDelay)), NowSeconds(MoveTemp(InNowSeconds))
	{
	}

	/** Seconds to wait before sending the same refresh token again after send number Attempt (0: the first) failed with
	 *  Error; negative: the refresh ends with Error. */
	static float ResendAfter(const FGamingPanelError& Error, int32 Attempt)
	{
		static const float LostAnswerDelays[MaxResends] = {1.f, 2.f};
		if (Error.EndsSession() || Attempt >= MaxResends) return -1.f;
		if (HasRetryAfter(Error))
		{
			// Answered before anything rotated: the token is still current, and the panel asked for this much quiet.
			return Error.RetryAfterSeconds <= MaxRetryAfterSeconds ? Error.RetryAfterSeconds : -1.f;
		}
		return MayHaveLostAnswer(Error) ? LostAnswerDelays[Attempt] : -1.f;
	}

	/** A 429 or 5xx that says how long to wait (Retry-After). */
	static bool HasRetryAfter(const FGamingPanelError& Error)
	{
		return Error.RetryAfterSeconds >= 0.f && (Error.Status == 429 || Error.Status >= 500);
	}

	/** The panel may have rotated the token without the answer arriving: no answer, 408, 5xx, a 2xx without the pair. */
	static bool MayHaveLostAnswer(const FGamingPanelError& Error)
	{
		return Error.Status == 0 || Error.Status == 408 || Error.Status >= 500 || (Error.Status >= 200 && Error.Status < 300);
	}

	bool IsInFlight() const { return bInFlight; }

	/**
	 * OnDone gets the outcome of the refresh in flight. When none is in flight and new ones are paused, answers OnDone at
	 * once and returns false; otherwise returns true: the caller starts the refresh now (Exchange) and ends it (Finish).
	 */
	bool Join(FOnDone OnDone, bool bForce)
	{
		if (!bInFlight && Failure.IsSet())
		{
			const double Now = NowSeconds();
			if (Now < QuietUntil)
			{
				// The last answer's Retry-After has not passed: nobody sends sooner than the panel asked, forced or not.
				FGamingPanelError Left = Failure;
				Left.RetryAfterSeconds = static_cast<float>(QuietUntil - Now);
				OnDone(false, Left);
				return false;
			}
			if (!bForce && Now < PausedUntil)
			{
				OnDone(false, Failure);
				return false;
			}
		}
		Waiters.Add(MoveTemp(OnDone));
		if (bInFlight) return false;
		bInFlight = true;
		return true;
	}

	/**
	 * POST auth/refresh with RefreshToken, sent again by the rules above while StillWanted(); OnLast gets the last answer,
	 * once. For the refresh Join started, and on its own for a logout's renewal of an expired access token.
	 */
	void Exchange(const FString& RefreshToken, TFunction<bool()> StillWanted, FOnAnswer OnLast)
	{
		TSharedRef<FRun> Run = MakeShared<FRun>();
		Run->Token = RefreshToken;
		Run->StillWanted = MoveTemp(StillWanted);
		Run->OnLast = MoveTemp(OnLast);
		SendAttempt(Run, 0);
	}

	/** Ends the refresh in flight: every waiter gets its outcome. */
	void Finish(bool bOk, const FGamingPanelError& Error)
	{
		TArray<FOnDone> Done = TakeWaiters();
		AnswerWaiters(Done, bOk, Error);
	}

	/**
	 * The session is over and the caller has forgotten it (the subsystem: ClearSession): the refresh in flight, if any,
	 * ends with Error, but TellGame runs first (the subsystem: OnSessionLost; empty when there is nothing to tell) and
	 * only then do its waiters (the game's calls, a deletion's renewal) hear Error. So no call resumes with not_logged_in
	 * (and retries, shows an error, logs in) before the game knows the session is gone; the Unity kit's order
	 * (TokenManager.ClearSession: SessionLost, then the session's waiting calls). The waiters are taken out before
	 * TellGame runs: whatever the game starts when told is its own, never answered with this Error.
	 */
	void EndSession(const FGamingPanelError& Error, TFunction<void()> TellGame)
	{
		TArray<FOnDone> Done = TakeWaiters();
		if (TellGame)
		{
			TellGame();
		}
		AnswerWaiters(Done, false, Error);
	}

	/** A refresh ended without a pair or a refusal, the tokens kept: new ones wait (BackoffSeconds, and the Retry-After). */
	void Pause(const FGamingPanelError& Error)
	{
		const double Now = NowSeconds();
		Failure = Error;
		PausedUntil = Now + BackoffSeconds;
		QuietUntil = HasRetryAfter(Error) ? Now + Error.RetryAfterSeconds : 0.0;
	}

	/** New tokens, or the session ended: nothing holds the next refresh back. */
	void ClearPause() { Failure = FGamingPanelError(); }

private:
	/** The refresh in flight ends: its waiters, taken out (a caller arriving after this starts a new refresh). */
	TArray<FOnDone> TakeWaiters()
	{
		bInFlight = false;
		TArray<FOnDone> Done = MoveTemp(Waiters);
		Waiters.Reset();
		return Done;
	}

	static void AnswerWaiters(TArray<FOnDone>& Done, bool bOk, const FGamingPanelError& Error)
	{
		for (FOnDone& Waiter : Done)
		{
			Waiter(bOk, Error);
		}
	}

	/** One refresh's sends: held by its pending callbacks only, so it may outlive Finish (a logout's renewal). */
	struct FRun
	{
		FString Token;
		TFunction<bool()> StillWanted;
		FOnAnswer OnLast;
	};

	void SendAttempt(TSharedRef<FRun> Run, int32 Attempt)
	{
		Send(Run->Token, [this, Run, Attempt](const FGamingPanelRefreshAnswer& Answer)
		{
			const float Wait = Answer.bPair ? -1.f : ResendAfter(Answer.Error, Attempt);
			if (Wait < 0.f || !Run->StillWanted())
			{
				Run->OnLast(Answer);
				return;
			}
			Delay(Wait, [this, Run, Attempt, Answer]()
			{
				// Logged out, or another session began, during the wait: that token is nobody's to send any more.
				if (!Run->StillWanted())
				{
					Run->OnLast(Answer);
					return;
				}
				SendAttempt(Run, Attempt + 1);
			});
		});
	}

	FSend Send;
	FDelay Delay;
	TFunction<double()> NowSeconds;
	bool bInFlight = false;
	TArray<FOnDone> Waiters;
	/** The failure the last refresh ended with (tokens kept); empty when none holds the next one back. */
	FGamingPanelError Failure;
	double PausedUntil = 0.0;
	/** Until then (NowSeconds), the Retry-After of the answer Failure came with: no refresh is sent. */
	double QuietUntil = 0.0;
};
