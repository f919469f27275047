// Gaming Panel Unreal example: remote config's offline copy, its decisions without HTTP, JSON or files.
//
// FGamingPanelRemoteConfigCache is what FGamingPanelRemoteConfig (GamingPanelCloudSave.h) decides, over Core types
// only, so Tests/CloudSaveQueueTest.cpp (built and run by scripts/check_examples.sh) runs it against a fake panel and
// an in-memory store, as the Unity kit's RemoteConfigService decides it:
//   - the request: X-Client-Version, X-Client-Platform, and If-None-Match with the saved copy's ETag;
//   - a 2xx is the config only when its body is a JSON object whose `values` is an object and whose `version` is a
//     whole number of at least 0 (IsConfig). It replaces the saved copy, with its ETag and the time it was read;
//   - a 2xx that is not (not an object, `values` or `version` missing or of another type: an empty body, a captive
//     portal's page) replaces nothing: the saved copy, bFromCache, with invalid_response (failed when there is none);
//   - a 304 (the saved ETag still names the current release): the saved copy is current, not from the cache, and the
//     time it was read moves to now, on disk too, so an offline start later says the copy was confirmed then;
//   - anything else (no answer, 429 or 503 after the subsystem's automatic retries, with RetryAfterSeconds when the
//     panel said one, any refusal): the saved copy, bFromCache, with that error; failed when there is none.
// The copy's fetch time is kept in the file (remote_config.json) across restarts: FGamingPanelRemoteConfig::
// GetFetchedAtUtc(), the Unity kit's Cached<RemoteConfigValues>.FetchedAtUtc and RemoteConfigService.FetchedAtUtc.
// Header-only: the checks compile and run it without linking the plugin.
#pragma once

#include "CoreMinimal.h"
#include "GamingPanelTypes.h"

/** The remote config a device keeps for one player (Saved/GamingPanel/<player>/remote_config.json). */
struct FGamingPanelConfigCopy
{
	/** The resolved keys: the answer's `values` object, as JSON text. */
	FString ValuesJson;
	/** The published release the values come from (the answer's `version`). */
	int64 Version = 0;
	/** The answer's ETag, sent back as If-None-Match; empty when it had none. */
	FString ETag;
	/** When the copy was last read from the panel (its 200, or a 304 saying it is still current), Unix seconds; 0 when
	 *  unknown (a copy an older plugin saved). */
	int64 FetchedAtUnixSeconds = 0;
};

/** Where the copy is kept: read before each fetch, written when an answer changes it. */
class IGamingPanelConfigStore
{
public:
	virtual ~IGamingPanelConfigStore() = default;
	/** False when there is no (readable) copy. */
	virtual bool Read(FGamingPanelConfigCopy& OutCopy) = 0;
	virtual void Write(const FGamingPanelConfigCopy& Copy) = 0;
};

/** The answer to GET config, read out of the HTTP response by the caller. */
struct FGamingPanelConfigAnswer
{
	/** A 2xx. */
	bool bOk = false;
	/** The HTTP status (0 when no answer arrived). */
	int32 Status = 0;
	/** Why not, when !bOk (a 304 included). */
	FGamingPanelError Error;
	FString ETag;
	/** A 2xx: the body is a JSON object. */
	bool bObject = false;
	/** Its `values` is a JSON object: ValuesJson, its text. */
	bool bValuesIsObject = false;
	FString ValuesJson;
	/** Its `version` is a JSON number: Version. */
	bool bVersionIsNumber = false;
	double Version = 0;
};

/** What a fetch gives the game. */
struct FGamingPanelConfigOutcome
{
	/** There is a config to use: Copy. */
	bool bOk = false;
	/** Copy is the saved one because the panel did not say what is current (Error says why). */
	bool bFromCache = false;
	FGamingPanelConfigCopy Copy;
	FGamingPanelError Error;
};

struct FGamingPanelRemoteConfigCache
{
	/** The panel's config: a JSON object with `values` an object and `version` a whole number of at least 0. */
	static bool IsConfig(const FGamingPanelConfigAnswer& Answer)
	{
		return Answer.bObject && Answer.bValuesIsObject && Answer.bVersionIsNumber && Answer.Version >= 0.0
			&& Answer.Version <= 9007199254740992.0 && Answer.Version == static_cast<double>(static_cast<int64>(Answer.Version));
	}

	/** X-Client-Version (already cut to the server's form; none when empty), X-Client-Platform, and If-None-Match with
	 *  the saved copy's ETag when there is one. */
	static TMap<FString, FString> Headers(const FString& ClientVersion, const FString& Platform, const FGamingPanelConfigCopy* Saved)
	{
		TMap<FString, FString> Headers;
		if (!ClientVersion.IsEmpty()) Headers.Add(TEXT("X-Client-Version"), ClientVersion);
		if (!Platform.IsEmpty()) Headers.Add(TEXT("X-Client-Platform"), Platform);
		if (Saved && !Saved->ETag.IsEmpty()) Headers.Add(TEXT("If-None-Match"), Saved->ETag);
		return Headers;
	}

	/** What Answer does (see the top of this file); the store is written when the copy changes (a 200 that is the
	 *  config, a 304's new fetch time). Saved: the copy read before the request was sent, or nullptr. */
	static FGamingPanelConfigOutcome Answered(IGamingPanelConfigStore& Store, const FGamingPanelConfigCopy* Saved,
		const FGamingPanelConfigAnswer& Answer, int64 NowUnixSeconds)
	{
		FGamingPanelConfigOutcome Outcome;
		if (Answer.bOk && IsConfig(Answer))
		{
			Outcome.bOk = true;
			Outcome.Copy.ValuesJson = Answer.ValuesJson;
			Outcome.Copy.Version = static_cast<int64>(Answer.Version);
			Outcome.Copy.ETag = Answer.ETag;
			Outcome.Copy.FetchedAtUnixSeconds = NowUnixSeconds;
			Store.Write(Outcome.Copy);
			return Outcome;
		}
		if (!Answer.bOk && Answer.Status == 304 && Saved)
		{
			// Still current: the copy as it is, read from the panel now.
			Outcome.bOk = true;
			Outcome.Copy = *Saved;
			Outcome.Copy.FetchedAtUnixSeconds = NowUnixSeconds;
			Store.Write(Outcome.Copy);
			return Outcome;
		}
		if (Answer.bOk)
		{
			// A 2xx that is not the config (an empty body, a captive portal's page) is not the panel's answer.
			Outcome.Error.Status = Answer.Status;
			Outcome.Error.Code = TEXT("invalid_response");
			Outcome.Error.Title = TEXT("Invalid response");
			Outcome.Error.Detail = TEXT("The answer to GET config is not the panel's config; the saved copy is kept.");
		}
		else
		{
			Outcome.Error = Answer.Error;
		}
		// Offline, or any refusal: the saved copy keeps the game running, and Error says why it is not fresh.
		if (Saved)
		{
			Outcome.bOk = true;
			Outcome.bFromCache = true;
			Outcome.Copy = *Saved;
		}
		return Outcome;
	}
};
