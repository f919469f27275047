// Gaming Panel Unreal example: FHttpModule transport, problem JSON errors, JSON helpers.
#include "GamingPanelHttp.h"
#include "GamingPanelModule.h"
#include "HttpModule.h"
#include "Interfaces/IHttpRequest.h"
#include "Interfaces/IHttpResponse.h"
#include "Serialization/JsonReader.h"
#include "Serialization/JsonSerializer.h"
#include "Serialization/JsonWriter.h"
#include "Policies/CondensedJsonPrintPolicy.h"
#include "Containers/Ticker.h"
#include "HAL/FileManager.h"
#include "Misc/FileHelper.h"

// ------------------------------------------------------------------------------------------------ the panel's clock

namespace
{
	// The panel's clock minus the device's (seconds), from the last answer's Date header. Answers arrive on the game thread.
	int64 PanelClockOffsetSeconds = 0;
	bool bPanelClockKnown = false;
}

int64 FGamingPanelHttp::ParseDateHeader(const FString& Date)
{
	FDateTime Parsed;
	return !Date.IsEmpty() && FDateTime::ParseHttpDate(Date, Parsed) ? Parsed.ToUnixTimestamp() : 0;
}

bool FGamingPanelHttp::GetPanelClockOffset(int64& OutSeconds)
{
	OutSeconds = PanelClockOffsetSeconds;
	return bPanelClockKnown;
}

// ------------------------------------------------------------------------------------------------ errors

FGamingPanelError FGamingPanelError::Make(int32 InStatus, const FString& InCode, const FString& InDetail)
{
	FGamingPanelError Error;
	Error.Status = InStatus;
	Error.Code = InCode;
	Error.Title = InCode;
	Error.Detail = InDetail;
	return Error;
}

FGamingPanelError FGamingPanelError::Network(const FString& InDetail)
{
	FGamingPanelError Error = Make(0, GamingPanelErrorCodes::NetworkError, InDetail);
	Error.Title = TEXT("Network error");
	return Error;
}

static FString FallbackCode(int32 Status)
{
	switch (Status)
	{
	case 0: return GamingPanelErrorCodes::NetworkError;
	case 400: return GamingPanelErrorCodes::ValidationError;
	case 401: return TEXT("not_authenticated");
	case 403: return TEXT("permission_denied");
	case 404: return TEXT("not_found");
	case 429: return GamingPanelErrorCodes::RateLimited;
	default: return Status >= 500 ? FString(TEXT("server_error")) : FString::Printf(TEXT("http_%d"), Status);
	}
}

FGamingPanelError FGamingPanelError::FromResponse(int32 InStatus, const FString& Body, const FString& RetryAfterHeader)
{
	FGamingPanelError Error;
	Error.Status = InStatus;
	if (!RetryAfterHeader.IsEmpty() && RetryAfterHeader.IsNumeric())
	{
		Error.RetryAfterSeconds = FMath::Max(0.f, FCString::Atof(*RetryAfterHeader));
	}
	else if (const int64 RetryAt = FGamingPanelHttp::ParseDateHeader(RetryAfterHeader))
	{
		// Retry-After may also be an HTTP-date, by the panel's clock: the seconds from the panel's now.
		int64 Offset = 0;
		FGamingPanelHttp::GetPanelClockOffset(Offset);
		Error.RetryAfterSeconds = static_cast<float>(FMath::Max<int64>(0, RetryAt - (FDateTime::UtcNow().ToUnixTimestamp() + Offset)));
	}

	const TSharedPtr<FJsonValue> Parsed = FGamingPanelHttp::ParseJson(Body);
	const TSharedPtr<FJsonObject> Problem = Parsed.IsValid() && Parsed->Type == EJson::Object ? Parsed->AsObject() : nullptr;
	if (!Problem.IsValid())
	{
		Error.Code = FallbackCode(InStatus);
		Error.Title = FString::Printf(TEXT("HTTP %d"), InStatus);
		Error.Detail = TEXT("The server answered without a problem document.");
		return Error;
	}
	Error.Code = GamingPanelJson::GetString(*Problem, TEXT("code"), FallbackCode(InStatus));
	Error.Title = GamingPanelJson::GetString(*Problem, TEXT("title"));
	Error.Detail = GamingPanelJson::GetString(*Problem, TEXT("detail"));
	Error.bAccountDeleted = GamingPanelJson::GetBool(*Problem, TEXT("account_deleted"));
	return Error;
}

FString FGamingPanelError::ToString() const
{
	return FString::Printf(TEXT("%d %s: %s"), Status, *Code, *Detail);
}

// ------------------------------------------------------------------------------------------------ response

TSharedPtr<FJsonObject> FGamingPanelResponse::JsonObject() const
{
	return Json.IsValid() && Json->Type == EJson::Object ? Json->AsObject() : nullptr;
}

FGamingPanelResponse FGamingPanelResponse::Failure(const FGamingPanelError& InError)
{
	FGamingPanelResponse Response;
	Response.bOk = false;
	Response.Status = InError.Status;
	Response.Error = InError;
	return Response;
}

// ------------------------------------------------------------------------------------------------ transport

void FGamingPanelHttp::Send(const FString& Verb, const FString& Url, const TMap<FString, FString>& Headers,
	const TSharedPtr<FJsonObject>& Body, float TimeoutSeconds, FGamingPanelResponseCallback OnComplete)
{
	TSharedRef<IHttpRequest, ESPMode::ThreadSafe> Request = FHttpModule::Get().CreateRequest();
	Request->SetURL(Url);
	Request->SetVerb(Verb);
	Request->SetHeader(TEXT("Accept"), TEXT("application/json, application/problem+json"));
	for (const TPair<FString, FString>& Header : Headers)
	{
		Request->SetHeader(Header.Key, Header.Value);
	}
	if (Body.IsValid())
	{
		Request->SetHeader(TEXT("Content-Type"), TEXT("application/json"));
		Request->SetContentAsString(ToJsonString(Body.ToSharedRef()));
	}
	Request->SetTimeout(TimeoutSeconds);

	Request->OnProcessRequestComplete().BindLambda(
		[OnComplete](FHttpRequestPtr /*Request*/, FHttpResponsePtr HttpResponse, bool bConnectedSuccessfully)
		{
			if (!bConnectedSuccessfully || !HttpResponse.IsValid() || HttpResponse->GetResponseCode() <= 0)
			{
				// No HTTP answer: offline, DNS, TLS or timeout.
				OnComplete(FGamingPanelResponse::Failure(FGamingPanelError::Network(TEXT("The Gaming Panel server could not be reached."))));
				return;
			}

			FGamingPanelResponse Response;
			Response.Status = HttpResponse->GetResponseCode();
			Response.Body = HttpResponse->GetContentAsString();
			Response.ETag = HttpResponse->GetHeader(TEXT("ETag"));
			Response.ContentType = HttpResponse->GetHeader(TEXT("Content-Type"));
			Response.Date = HttpResponse->GetHeader(TEXT("Date"));
			const int64 PanelNow = ParseDateHeader(Response.Date);
			if (PanelNow > 0)
			{
				PanelClockOffsetSeconds = PanelNow - FDateTime::UtcNow().ToUnixTimestamp();
				bPanelClockKnown = true;
			}
			if (Response.Status >= 200 && Response.Status < 300)
			{
				Response.Json = ParseJson(Response.Body);
				if (!Response.Body.IsEmpty() && !Response.Json.IsValid())
				{
					Response.Error = FGamingPanelError::Make(Response.Status, GamingPanelErrorCodes::InvalidResponse, TEXT("The response is not JSON."));
					OnComplete(Response);
					return;
				}
				Response.bOk = true;
			}
			else
			{
				Response.Error = FGamingPanelError::FromResponse(Response.Status, Response.Body, HttpResponse->GetHeader(TEXT("Retry-After")));
			}
			OnComplete(Response);
		});

	if (!Request->ProcessRequest())
	{
		OnComplete(FGamingPanelResponse::Failure(FGamingPanelError::Network(TEXT("The HTTP request could not be started."))));
	}
}

namespace
{
	/** One retried request. Held only by the pending callbacks, so it lives exactly as long as the chain. */
	struct FRetryState
	{
		FString Verb;
		FString Url;
		TMap<FString, FString> Headers;
		TSharedPtr<FJsonObject> Body;
		float TimeoutSeconds = 15.f;
		int32 MaxRetries = 0;
		FGamingPanelResponseCallback OnComplete;
	};

	void RunAttempt(const TSharedRef<FRetryState>& State, int32 Number)
	{
		FGamingPanelHttp::Send(State->Verb, State->Url, State->Headers, State->Body, State->TimeoutSeconds,
			[State, Number](const FGamingPanelResponse& Response)
			{
				if (Response.bOk || !Response.Error.IsTransient() || Number >= State->MaxRetries)
				{
					State->OnComplete(Response);
					return;
				}
				const float Wait = FGamingPanelHttp::RetryDelaySeconds(Response.Error, Number);
				if (Wait > FGamingPanelHttp::MaxRetryWaitSeconds)
				{
					// Not sent again sooner than the panel asked: the caller gets the error, RetryAfterSeconds with it.
					UE_LOG(LogGamingPanel, Log, TEXT("%s failed (%s); the panel asks to wait %.0f s: not retried now"), *State->Url, *Response.Error.Code, Wait);
					State->OnComplete(Response);
					return;
				}
				UE_LOG(LogGamingPanel, Log, TEXT("%s failed (%s); retry %d in %.1f s"), *State->Url, *Response.Error.Code, Number + 1, Wait);
				FGamingPanelHttp::Delay(Wait, [State, Number]() { RunAttempt(State, Number + 1); });
			});
	}
}

void FGamingPanelHttp::SendWithRetries(const FString& Verb, const FString& Url, const TMap<FString, FString>& Headers,
	const TSharedPtr<FJsonObject>& Body, float TimeoutSeconds, int32 MaxRetries, FGamingPanelResponseCallback OnComplete)
{
	const TSharedRef<FRetryState> State = MakeShared<FRetryState>();
	State->Verb = Verb;
	State->Url = Url;
	State->Headers = Headers;
	State->Body = Body;
	State->TimeoutSeconds = TimeoutSeconds;
	State->MaxRetries = FMath::Max(0, MaxRetries);
	State->OnComplete = MoveTemp(OnComplete);
	RunAttempt(State, 0);
}

void FGamingPanelHttp::Delay(float Seconds, TFunction<void()> Callback)
{
	FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([Callback](float /*DeltaTime*/)
	{
		Callback();
		return false; // run once
	}), FMath::Max(0.f, Seconds));
}

FString FGamingPanelHttp::JoinUrl(const FString& BaseUrl, const FString& Path)
{
	FString Base = BaseUrl;
	if (!Base.EndsWith(TEXT("/")))
	{
		Base += TEXT("/");
	}
	FString Relative = Path;
	while (Relative.StartsWith(TEXT("/")))
	{
		Relative.RightChopInline(1);
	}
	return Base + Relative;
}

FString FGamingPanelHttp::ToJsonString(const TSharedRef<FJsonObject>& Object)
{
	FString Out;
	const TSharedRef<TJsonWriter<TCHAR, TCondensedJsonPrintPolicy<TCHAR>>> Writer =
		TJsonWriterFactory<TCHAR, TCondensedJsonPrintPolicy<TCHAR>>::Create(&Out);
	FJsonSerializer::Serialize(Object, Writer);
	return Out;
}

TSharedPtr<FJsonValue> FGamingPanelHttp::ParseJson(const FString& Text)
{
	if (Text.IsEmpty())
	{
		return nullptr;
	}
	// TJsonReader takes only an object or an array at the top level, and a value may be any JSON (a save of 5, "text"
	// or true): the text is read as the one field of a wrapper object, the mirror of how values are written out.
	const FString Wrapped = TEXT("{\"v\":") + Text + TEXT("}");
	TSharedPtr<FJsonObject> Wrapper;
	const TSharedRef<TJsonReader<TCHAR>> Reader = TJsonReaderFactory<TCHAR>::Create(Wrapped);
	if (!FJsonSerializer::Deserialize(Reader, Wrapper) || !Wrapper.IsValid() || Wrapper->Values.Num() != 1)
	{
		return nullptr; // not JSON, or more than one value ("1,\"w\":2")
	}
	return Wrapper->TryGetField(TEXT("v"));
}

// ------------------------------------------------------------------------------------------------ local files

bool GamingPanelFiles::SaveText(const FString& Text, const FString& Path)
{
	if (IsErased(Path))
	{
		return false; // a deleted player's file (GamingPanelAccount.cpp): never written again
	}
	const FString Temporary = Path + TEXT(".tmp");
	if (!FFileHelper::SaveStringToFile(Text, *Temporary))
	{
		return false;
	}
	// One call replaces the old file. Where the platform cannot rename over a file the engine deletes it first:
	// LoadText then reads the temporary copy.
	return IFileManager::Get().Move(*Path, *Temporary, true);
}

bool GamingPanelFiles::LoadText(FString& OutText, const FString& Path)
{
	if (FFileHelper::LoadFileToString(OutText, *Path))
	{
		return true;
	}
	const FString Temporary = Path + TEXT(".tmp");
	return !IFileManager::Get().FileExists(*Path) && FFileHelper::LoadFileToString(OutText, *Temporary);
}

bool GamingPanelFiles::Exists(const FString& Path)
{
	const FString Temporary = Path + TEXT(".tmp");
	return IFileManager::Get().FileExists(*Path) || IFileManager::Get().FileExists(*Temporary);
}

FString GamingPanelFiles::SetAside(const FString& Path)
{
	const FString Source = IFileManager::Get().FileExists(*Path) ? Path : Path + TEXT(".tmp");
	const FString Aside = Path + FString::Printf(TEXT(".unreadable-%lld"), static_cast<long long>(FDateTime::UtcNow().ToUnixTimestamp()));
	return IFileManager::Get().Move(*Aside, *Source, false) ? Aside : FString();
}

// ------------------------------------------------------------------------------------------------ JSON helpers

namespace GamingPanelJson
{
	FString GetString(const FJsonObject& Object, const FString& Field, const FString& Fallback)
	{
		const TSharedPtr<FJsonValue> Value = Object.TryGetField(Field);
		if (!Value.IsValid() || Value->IsNull())
		{
			return Fallback;
		}
		FString Out;
		return Value->TryGetString(Out) ? Out : Fallback;
	}

	int64 GetInt(const FJsonObject& Object, const FString& Field, int64 Fallback)
	{
		double Number = 0.0;
		return Object.TryGetNumberField(Field, Number) ? static_cast<int64>(FMath::RoundToDouble(Number)) : Fallback;
	}

	double GetNumber(const FJsonObject& Object, const FString& Field, double Fallback)
	{
		double Number = 0.0;
		return Object.TryGetNumberField(Field, Number) ? Number : Fallback;
	}

	bool GetBool(const FJsonObject& Object, const FString& Field, bool bFallback)
	{
		bool bValue = false;
		return Object.TryGetBoolField(Field, bValue) ? bValue : bFallback;
	}

	FString ValueToString(const TSharedPtr<FJsonValue>& Value)
	{
		if (!Value.IsValid())
		{
			return FString();
		}
		if (Value->Type == EJson::Number)
		{
			const double Number = Value->AsNumber();
			if (FMath::Frac(Number) == 0.0)
			{
				return FString::Printf(TEXT("%lld"), static_cast<long long>(Number));
			}
			return FString::SanitizeFloat(Number);
		}
		FString Out;
		return Value->TryGetString(Out) ? Out : FString();
	}

	FString GetId(const FJsonObject& Object, const FString& Field)
	{
		return ValueToString(Object.TryGetField(Field));
	}

	void SetId(FJsonObject& Object, const FString& Field, const FString& Id)
	{
		if (!Id.IsEmpty() && Id.IsNumeric() && !Id.Contains(TEXT(".")) && !Id.StartsWith(TEXT("-")))
		{
			Object.SetNumberField(Field, FCString::Atod(*Id));
		}
		else
		{
			Object.SetStringField(Field, Id);
		}
	}

	TSharedPtr<FJsonObject> GetObject(const FJsonObject& Object, const FString& Field)
	{
		const TSharedPtr<FJsonObject>* Out = nullptr;
		return Object.TryGetObjectField(Field, Out) && Out != nullptr ? *Out : nullptr;
	}

	const TArray<TSharedPtr<FJsonValue>>* GetArray(const FJsonObject& Object, const FString& Field)
	{
		const TArray<TSharedPtr<FJsonValue>>* Out = nullptr;
		return Object.TryGetArrayField(Field, Out) ? Out : nullptr;
	}
}
