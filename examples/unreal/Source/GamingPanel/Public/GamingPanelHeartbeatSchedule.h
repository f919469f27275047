// Gaming Panel Unreal example: when a dedicated server beats next (UGamingPanelServerSubsystem's heartbeat).
// Core types only, so examples/unreal/Tests/ServerHeartbeatTest.cpp builds and runs it with g++.
//
// The panel lists a server for ttl_seconds (30) after its last beat and answers ttl_seconds on each beat: beat at a
// third of it (10 s until the first answer), so one lost beat does not drop the server, and send a failed beat again
// soon (2 s), once. 409 too_many_servers (the game already has MULTIPLAYER_MAX_LIVE_SERVERS live servers, and this
// one is not live) is no reason to stop: a place frees when another server stops, so beat again with backoff (the
// interval, doubling up to a minute). An answer with Retry-After (429, 503) is never beaten again sooner than it asks.
#pragma once

#include "CoreMinimal.h"

struct FGamingPanelHeartbeatSchedule
{
	enum class EOutcome : uint8
	{
		/** The panel answered 200: the server is listed. */
		Listed,
		/** 409 too_many_servers: not listed, the game is at its live-server limit. */
		TooManyServers,
		/** Anything else: no answer, 429, 5xx, a refused key... */
		Failed,
	};

	static constexpr float DefaultIntervalSeconds = 10.f;
	static constexpr float RetrySeconds = 2.f;
	static constexpr float MaxBackoffSeconds = 60.f;

	/** Seconds between beats: a third of the panel's last ttl_seconds (at least 1), DefaultIntervalSeconds before. */
	float IntervalSeconds = DefaultIntervalSeconds;
	/** The last beat went through. */
	bool bListed = false;
	/** A beat went through since the schedule started: deregister on shutdown. */
	bool bRegistered = false;

	static EOutcome Classify(bool bOk, int32 Status, const FString& Code)
	{
		if (bOk) return EOutcome::Listed;
		return Status == 409 && Code == TEXT("too_many_servers") ? EOutcome::TooManyServers : EOutcome::Failed;
	}

	/** Records a beat's outcome (TtlSeconds: the answer's ttl_seconds, 0 when none; RetryAfterSeconds: a refusal's
	 *  Retry-After, negative when none); answers the seconds until the next beat, never less than RetryAfterSeconds. */
	float Next(EOutcome Outcome, int64 TtlSeconds = 0, float RetryAfterSeconds = -1.f)
	{
		const float Wait = NextWithoutRetryAfter(Outcome, TtlSeconds);
		return Outcome == EOutcome::Listed ? Wait : FMath::Max(Wait, RetryAfterSeconds);
	}

private:
	float NextWithoutRetryAfter(EOutcome Outcome, int64 TtlSeconds)
	{
		switch (Outcome)
		{
		case EOutcome::Listed:
			bListed = bRegistered = true;
			bFailedBefore = false;
			BackoffSeconds = 0.f;
			if (TtlSeconds > 0) IntervalSeconds = FMath::Max(1.f, static_cast<float>(TtlSeconds) / 3.f);
			return IntervalSeconds;
		case EOutcome::TooManyServers:
			bListed = false;
			bFailedBefore = false;
			BackoffSeconds = BackoffSeconds <= 0.f ? IntervalSeconds : FMath::Min(MaxBackoffSeconds, BackoffSeconds * 2.f);
			return BackoffSeconds;
		default:
		{
			// Sent again soon, once: a single lost beat must not take the server off the list.
			const float Wait = bFailedBefore ? IntervalSeconds : RetrySeconds;
			bFailedBefore = true;
			return Wait;
		}
		}
	}

	bool bFailedBefore = false;
	float BackoffSeconds = 0.f;
};
