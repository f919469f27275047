// COMPILE-ONLY STAND-INS FOR UNREAL ENGINE TYPES. NOT PART OF THE PLUGIN. NEVER ADD THIS FOLDER TO A UE PROJECT.
//
// The smallest declarations of exactly the engine types, functions and macros the GamingPanel plugin uses,
// so CI can run `g++ -std=c++17 -fsyntax-only` on the plugin's sources without an Unreal Engine install
// (scripts/check_examples.sh). Signatures follow UE 5.1+. Most members are declarations only; FString, TArray,
// TMap, FString::Printf, the smart pointers and TFunction work, so the behaviour tests in examples/unreal/Tests
// can link and run plugin code that needs nothing more. The reflection macros (UCLASS, UPROPERTY,
// GENERATED_BODY...) expand to nothing; the "X.generated.h" files beside this one are empty shims standing in
// for UnrealHeaderTool's output, and `Super` is provided by each stub base class naming itself (UHT's
// GENERATED_BODY does it for real classes). The engine header paths the plugin includes ("CoreMinimal.h",
// "HttpModule.h"...) exist here as one-line files that include this one. When the plugin starts using a new
// engine member, declare it here with the engine's real signature, so the check keeps meaning something.
#pragma once

#include <cstdint>
#include <cwchar>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// ------------------------------------------------------------------------------------------------ basics

using int8 = std::int8_t;
using uint8 = std::uint8_t;
using int16 = std::int16_t;
using uint16 = std::uint16_t;
using int32 = std::int32_t;
using uint32 = std::uint32_t;
using int64 = std::int64_t;
using uint64 = std::uint64_t;
using TCHAR = wchar_t;
using ANSICHAR = char;

#define TEXT(x) L##x

#ifndef GAMINGPANEL_API
#define GAMINGPANEL_API // UnrealBuildTool defines <MODULE>_API as the DLL export/import attribute
#endif

#define THIRD_PARTY_INCLUDES_START
#define THIRD_PARTY_INCLUDES_END

// Reflection markup: read by UnrealHeaderTool, nothing for the C++ compiler.
#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UMETA(...)
#define GENERATED_BODY(...)

template <typename T>
typename std::remove_reference<T>::type&& MoveTemp(T&& Value) { return static_cast<typename std::remove_reference<T>::type&&>(Value); }

template <typename FuncType>
using TFunction = std::function<FuncType>;
template <typename FuncType>
using TUniqueFunction = std::function<FuncType>;

class FString;

namespace UnrealStubs
{
	/** UE's printf-style formatting takes TCHAR* for %s: passing an FString itself is a real bug (use *String). */
	template <typename... ArgTypes>
	void CheckFormatArgs(const TCHAR* /*Format*/, ArgTypes&&... /*Args*/)
	{
		static_assert(!std::disjunction<std::is_same<std::decay_t<ArgTypes>, FString>...>::value,
			"Pass *MyString (const TCHAR*), not an FString, to UE_LOG / FString::Printf.");
		static_assert(std::conjunction<std::is_scalar<std::decay_t<ArgTypes>>...>::value,
			"UE_LOG / FString::Printf arguments must be numbers, enums or pointers.");
	}

	/** FString::Printf through the C library: UE's %s takes a TCHAR*, which the C library spells %ls. */
	template <typename... ArgTypes>
	std::wstring Format(const TCHAR* Pattern, ArgTypes... Args)
	{
		std::wstring Spec;
		for (const TCHAR* C = Pattern; *C; ++C)
		{
			Spec += *C;
			if (*C == L'%' && C[1] == L'%') Spec += *++C;
			else if (*C == L'%' && C[1] == L's') Spec += L'l';
		}
		std::vector<wchar_t> Buffer(128);
		for (;;)
		{
			const int Written = std::swprintf(Buffer.data(), Buffer.size(), Spec.c_str(), Args...);
			if (Written >= 0) return std::wstring(Buffer.data(), static_cast<size_t>(Written));
			if (Buffer.size() >= (1u << 20)) return Spec; // not a buffer size problem: a bad format
			Buffer.resize(Buffer.size() * 2);
		}
	}
}

// ------------------------------------------------------------------------------------------------ strings

class FString
{
public:
	FString() = default;
	FString(const TCHAR* Text) : Data(Text ? Text : L"") {}
	explicit FString(const std::wstring& Text) : Data(Text) {}

	const TCHAR* operator*() const { return Data.c_str(); }
	bool IsEmpty() const { return Data.empty(); }
	int32 Len() const { return static_cast<int32>(Data.size()); }
	void Reset() { Data.clear(); }
	void Empty() { Data.clear(); }

	FString& operator+=(const FString& Other) { Data += Other.Data; return *this; }
	FString& operator+=(const TCHAR* Other) { Data += Other; return *this; }
	FString& operator+=(TCHAR Other) { Data += Other; return *this; }
	friend FString operator+(const FString& A, const FString& B) { return FString(A.Data + B.Data); }
	friend FString operator+(const FString& A, const TCHAR* B) { return FString(A.Data + B); }
	friend FString operator+(const TCHAR* A, const FString& B) { return FString(A + B.Data); }
	friend bool operator==(const FString& A, const FString& B) { return A.Data == B.Data; }
	friend bool operator==(const FString& A, const TCHAR* B) { return A.Data == B; }
	friend bool operator==(const TCHAR* A, const FString& B) { return B.Data == A; }
	friend bool operator!=(const FString& A, const FString& B) { return !(A == B); }
	friend bool operator!=(const FString& A, const TCHAR* B) { return !(A == B); }
	friend bool operator!=(const TCHAR* A, const FString& B) { return !(A == B); }

	bool Equals(const FString& Other) const { return Data == Other.Data; }
	bool StartsWith(const FString& Prefix) const { return Data.rfind(Prefix.Data, 0) == 0; }
	bool EndsWith(const FString& Suffix) const;
	bool Contains(const FString& Sub) const { return Data.find(Sub.Data) != std::wstring::npos; }
	bool IsNumeric() const;
	FString ToLower() const;
	FString ToUpper() const;
	FString Left(int32 Count) const { return FString(Data.substr(0, Count < 0 ? 0 : static_cast<size_t>(Count))); }
	FString Mid(int32 Start, int32 Count) const { return FString(Data.substr(static_cast<size_t>(Start), static_cast<size_t>(Count))); }
	void RightChopInline(int32 Count) { Data.erase(0, static_cast<size_t>(Count)); }

	template <typename... ArgTypes>
	static FString Printf(const TCHAR* Format, ArgTypes&&... Args)
	{
		UnrealStubs::CheckFormatArgs(Format, Args...);
		return FString(UnrealStubs::Format(Format, Args...));
	}
	static FString SanitizeFloat(double Value, int32 MinFractionalDigits = 1);
	static FString FromInt(int32 Value);

private:
	std::wstring Data;
};

struct FCString
{
	static float Atof(const TCHAR* Text);
	static double Atod(const TCHAR* Text);
	static int32 Atoi(const TCHAR* Text);
};

/** TCHAR -> UTF-8 for C APIs (TCHAR_TO_UTF8's class form). */
class FTCHARToUTF8
{
public:
	explicit FTCHARToUTF8(const TCHAR* Source);
	const ANSICHAR* Get() const;
	int32 Length() const;
};

FString BytesToHex(const uint8* Bytes, int32 Count);

// ------------------------------------------------------------------------------------------------ containers

template <typename KeyType, typename ValueType>
struct TPair
{
	KeyType Key;
	ValueType Value;
};

template <typename ElementType>
class TArray
{
public:
	TArray() = default;
	TArray(std::initializer_list<ElementType> Init) : Items(Init) {}

	int32 Add(const ElementType& Item) { Items.push_back(Item); return Num() - 1; }
	int32 Add(ElementType&& Item) { Items.push_back(std::move(Item)); return Num() - 1; }
	template <typename... ArgTypes>
	int32 Emplace(ArgTypes&&... Args) { Items.emplace_back(std::forward<ArgTypes>(Args)...); return Num() - 1; }
	int32 Num() const { return static_cast<int32>(Items.size()); }
	bool IsEmpty() const { return Items.empty(); }
	template <typename ComparisonType>
	bool Contains(const ComparisonType& Item) const
	{
		for (const ElementType& Each : Items) { if (Each == Item) return true; }
		return false;
	}
	void Reset() { Items.clear(); }
	void Empty() { Items.clear(); }
	void RemoveAt(int32 Index, int32 Count = 1) { Items.erase(Items.begin() + Index, Items.begin() + Index + Count); }
	int32 Insert(const ElementType& Item, int32 Index) { Items.insert(Items.begin() + Index, Item); return Index; }
	ElementType& operator[](int32 Index) { return Items[static_cast<size_t>(Index)]; }
	const ElementType& operator[](int32 Index) const { return Items[static_cast<size_t>(Index)]; }
	template <typename PredicateType>
	ElementType* FindByPredicate(PredicateType Predicate)
	{
		for (ElementType& Item : Items) { if (Predicate(Item)) return &Item; }
		return nullptr;
	}

	typename std::vector<ElementType>::iterator begin() { return Items.begin(); }
	typename std::vector<ElementType>::iterator end() { return Items.end(); }
	typename std::vector<ElementType>::const_iterator begin() const { return Items.begin(); }
	typename std::vector<ElementType>::const_iterator end() const { return Items.end(); }

private:
	std::vector<ElementType> Items;
};

template <typename KeyType, typename ValueType>
class TMap
{
public:
	using ElementType = TPair<KeyType, ValueType>;

	// Like the engine's: Add replaces the value of a key already there; pointers from Find last until the next Add.
	ValueType& Add(const KeyType& Key, const ValueType& Value)
	{
		if (ValueType* Found = Find(Key)) return *Found = Value;
		Pairs.push_back(ElementType{Key, Value});
		return Pairs.back().Value;
	}
	ValueType* Find(const KeyType& Key)
	{
		for (ElementType& Pair : Pairs) { if (Pair.Key == Key) return &Pair.Value; }
		return nullptr;
	}
	const ValueType* Find(const KeyType& Key) const
	{
		for (const ElementType& Pair : Pairs) { if (Pair.Key == Key) return &Pair.Value; }
		return nullptr;
	}
	ValueType& FindOrAdd(const KeyType& Key)
	{
		if (ValueType* Found = Find(Key)) return *Found;
		return Add(Key, ValueType());
	}
	bool Contains(const KeyType& Key) const { return Find(Key) != nullptr; }
	int32 Remove(const KeyType& Key)
	{
		for (auto It = Pairs.begin(); It != Pairs.end(); ++It)
		{
			if (It->Key == Key) { Pairs.erase(It); return 1; }
		}
		return 0;
	}
	int32 Num() const { return static_cast<int32>(Pairs.size()); }
	void Reset() { Pairs.clear(); }
	void Empty() { Pairs.clear(); }

	typename std::vector<ElementType>::iterator begin() { return Pairs.begin(); }
	typename std::vector<ElementType>::iterator end() { return Pairs.end(); }
	typename std::vector<ElementType>::const_iterator begin() const { return Pairs.begin(); }
	typename std::vector<ElementType>::const_iterator end() const { return Pairs.end(); }

private:
	std::vector<ElementType> Pairs;
};

// ------------------------------------------------------------------------------------------------ smart pointers

enum class ESPMode : uint8 { NotThreadSafe, ThreadSafe };

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe> class TSharedRef;
template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe> class TSharedPtr;
template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe> class TWeakPtr;

template <typename ObjectType, ESPMode Mode>
class TSharedRef
{
public:
	template <typename OtherType, typename = std::enable_if_t<std::is_convertible<OtherType*, ObjectType*>::value>>
	TSharedRef(const TSharedRef<OtherType, Mode>& Other) : Object(Other.Object) {}

	ObjectType* operator->() const { return Object.get(); }
	ObjectType& operator*() const { return *Object; }
	ObjectType& Get() const { return *Object; }
	bool IsValid() const { return true; }

private:
	explicit TSharedRef(std::shared_ptr<ObjectType> InObject) : Object(std::move(InObject)) {}
	std::shared_ptr<ObjectType> Object;

	template <typename, ESPMode> friend class TSharedRef;
	template <typename, ESPMode> friend class TSharedPtr;
	template <typename, ESPMode> friend class TWeakPtr;
	template <typename T, ESPMode M, typename... A> friend TSharedRef<T, M> MakeShared(A&&...);
};

template <typename ObjectType, ESPMode Mode>
class TSharedPtr
{
public:
	TSharedPtr() = default;
	TSharedPtr(std::nullptr_t) {}
	template <typename OtherType, typename = std::enable_if_t<std::is_convertible<OtherType*, ObjectType*>::value>>
	TSharedPtr(const TSharedRef<OtherType, Mode>& Other) : Object(Other.Object) {}
	template <typename OtherType, typename = std::enable_if_t<std::is_convertible<OtherType*, ObjectType*>::value>>
	TSharedPtr(const TSharedPtr<OtherType, Mode>& Other) : Object(Other.Object) {}

	bool IsValid() const { return Object != nullptr; }
	explicit operator bool() const { return IsValid(); }
	ObjectType* Get() const { return Object.get(); }
	ObjectType* operator->() const { return Object.get(); }
	ObjectType& operator*() const { return *Object; }
	void Reset() { Object.reset(); }
	TSharedRef<ObjectType, Mode> ToSharedRef() const { return TSharedRef<ObjectType, Mode>(Object); }

	friend bool operator==(const TSharedPtr& A, std::nullptr_t) { return !A.IsValid(); }
	friend bool operator!=(const TSharedPtr& A, std::nullptr_t) { return A.IsValid(); }

private:
	std::shared_ptr<ObjectType> Object;

	template <typename, ESPMode> friend class TSharedPtr;
	template <typename, ESPMode> friend class TWeakPtr;
};

template <typename ObjectType, ESPMode Mode>
class TWeakPtr
{
public:
	TWeakPtr() = default;
	TWeakPtr(const TSharedRef<ObjectType, Mode>& Shared) : Object(Shared.Object) {}
	TWeakPtr(const TSharedPtr<ObjectType, Mode>& Shared) : Object(Shared.Object) {}
	TSharedPtr<ObjectType, Mode> Pin() const;
	bool IsValid() const { return !Object.expired(); }
	void Reset() { Object.reset(); }

private:
	std::weak_ptr<ObjectType> Object;
};

template <typename ObjectType, ESPMode Mode>
TSharedPtr<ObjectType, Mode> TWeakPtr<ObjectType, Mode>::Pin() const
{
	TSharedPtr<ObjectType, Mode> Pinned;
	Pinned.Object = Object.lock();
	return Pinned;
}

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe, typename... ArgTypes>
TSharedRef<ObjectType, Mode> MakeShared(ArgTypes&&... Args)
{
	return TSharedRef<ObjectType, Mode>(std::make_shared<ObjectType>(std::forward<ArgTypes>(Args)...));
}

template <typename ObjectType, ESPMode Mode = ESPMode::ThreadSafe>
class TSharedFromThis
{
public:
	TSharedRef<ObjectType, Mode> AsShared();
};

// ------------------------------------------------------------------------------------------------ math, time, ids

struct FMath
{
	template <typename T> static T Max(T A, T B) { return A < B ? B : A; }
	template <typename T> static T Min(T A, T B) { return A < B ? A : B; }
	template <typename T> static T Clamp(T X, T Lo, T Hi) { return X < Lo ? Lo : (Hi < X ? Hi : X); }
	static double RoundToDouble(double Value);
	static double Frac(double Value);
};

struct FTimespan
{
	static FTimespan FromSeconds(double Seconds);
	double GetTotalSeconds() const;
};

struct FDateTime
{
	FDateTime() = default;
	static FDateTime UtcNow();
	static FDateTime FromUnixTimestamp(int64 Seconds);
	static bool ParseIso8601(const TCHAR* Text, FDateTime& OutDateTime);
	static bool ParseHttpDate(const FString& HttpDate, FDateTime& OutDateTime);
	int64 ToUnixTimestamp() const;
	FString ToIso8601() const;

	FDateTime operator+(const FTimespan& Span) const;
	FDateTime operator-(const FTimespan& Span) const;
	FTimespan operator-(const FDateTime& Other) const;
	bool operator<(const FDateTime& Other) const;
	bool operator<=(const FDateTime& Other) const;
	bool operator>(const FDateTime& Other) const;
	bool operator>=(const FDateTime& Other) const;
	bool operator==(const FDateTime& Other) const;
	bool operator!=(const FDateTime& Other) const;
};

enum class EGuidFormats { Digits, DigitsWithHyphens, DigitsWithHyphensLower, DigitsWithHyphensInBraces };

struct FGuid
{
	static FGuid NewGuid();
	FString ToString(EGuidFormats Format = EGuidFormats::Digits) const;
};

struct FMD5
{
	static FString HashAnsiString(const TCHAR* Text);
};

struct FMemory
{
	static void* Memcpy(void* Dest, const void* Src, std::size_t Count);
};

struct FSHA1
{
	static void HashBuffer(const void* Data, uint64 DataSize, uint8* OutHash);
};

// ------------------------------------------------------------------------------------------------ logging

#define DECLARE_LOG_CATEGORY_EXTERN(CategoryName, DefaultVerbosity, CompileTimeVerbosity) \
	extern struct FLogCategory##CategoryName { } CategoryName
#define DEFINE_LOG_CATEGORY(CategoryName) FLogCategory##CategoryName CategoryName
#define UE_LOG(CategoryName, Verbosity, Format, ...) \
	((void)(CategoryName), ::UnrealStubs::CheckFormatArgs(Format, ##__VA_ARGS__))

// ------------------------------------------------------------------------------------------------ delegates

template <typename FuncType> class TDelegate;

template <typename RetType, typename... ArgTypes>
class TDelegate<RetType(ArgTypes...)>
{
public:
	// Bodies only where a lambda (a local type) is passed: C++ needs those defined, not just declared.
	template <typename FunctorType>
	static TDelegate CreateLambda(FunctorType&& Functor) { TDelegate Result; Result.Bound = std::forward<FunctorType>(Functor); return Result; }
	template <typename UserClass>
	static TDelegate CreateUObject(UserClass* Object, RetType (UserClass::*Method)(ArgTypes...));
	template <typename UserClass>
	static TDelegate CreateUObject(const UserClass* Object, RetType (UserClass::*Method)(ArgTypes...) const);
	template <typename UserClass, typename FunctorType>
	static TDelegate CreateWeakLambda(UserClass* /*Object*/, FunctorType&& Functor) { return CreateLambda(std::forward<FunctorType>(Functor)); }

	template <typename FunctorType>
	void BindLambda(FunctorType&& Functor) { Bound = std::forward<FunctorType>(Functor); }
	bool IsBound() const { return static_cast<bool>(Bound); }
	void Unbind() { Bound = nullptr; }
	RetType Execute(ArgTypes... Args) const { return Bound(Args...); }
	bool ExecuteIfBound(ArgTypes... Args) const;

private:
	std::function<RetType(ArgTypes...)> Bound;
};

/** Names one binding of a multicast delegate, for Remove. */
class FDelegateHandle
{
public:
	bool IsValid() const;
	void Reset();
};

template <typename FuncType> class TMulticastDelegate;

template <typename... ArgTypes>
class TMulticastDelegate<void(ArgTypes...)>
{
public:
	template <typename UserClass>
	FDelegateHandle AddRaw(UserClass* Object, void (UserClass::*Method)(ArgTypes...));
	template <typename UserClass>
	FDelegateHandle AddUObject(UserClass* Object, void (UserClass::*Method)(ArgTypes...));
	template <typename FunctorType>
	FDelegateHandle AddLambda(FunctorType&& Functor);
	bool Remove(FDelegateHandle Handle);
	void Broadcast(ArgTypes... Args) const;
};

#define DECLARE_MULTICAST_DELEGATE(DelegateName) using DelegateName = TMulticastDelegate<void()>

namespace UnrealStubs
{
	template <typename... ArgTypes>
	class TDynamicMulticastDelegate
	{
	public:
		void Broadcast(ArgTypes... Args) const;
		bool IsBound() const;
		void Clear();
	};
}

#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(DelegateName) \
	class DelegateName : public ::UnrealStubs::TDynamicMulticastDelegate<> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(DelegateName, Param1Type, Param1Name) \
	class DelegateName : public ::UnrealStubs::TDynamicMulticastDelegate<Param1Type> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(DelegateName, Param1Type, Param1Name, Param2Type, Param2Name) \
	class DelegateName : public ::UnrealStubs::TDynamicMulticastDelegate<Param1Type, Param2Type> {}

// ------------------------------------------------------------------------------------------------ core ticker

using FTickerDelegate = TDelegate<bool(float)>;

class FTSTicker
{
public:
	struct FDelegateHandle
	{
		void Reset();
	};

	static FTSTicker& GetCoreTicker();
	FDelegateHandle AddTicker(const FTickerDelegate& Delegate, float Delay = 0.0f);
	static void RemoveTicker(FDelegateHandle Handle);
};

// ------------------------------------------------------------------------------------------------ application lifetime

/** The OS's notices about the application (Misc/CoreDelegates.h), broadcast on the game thread. */
class FCoreDelegates
{
public:
	DECLARE_MULTICAST_DELEGATE(FApplicationLifetimeDelegate);
	/** The application is about to lose focus (mobile: a call, the app switcher). */
	static FApplicationLifetimeDelegate ApplicationWillDeactivateDelegate;
	/** The application is about to go to the background (mobile), where the OS may end it without notice. */
	static FApplicationLifetimeDelegate ApplicationWillEnterBackgroundDelegate;
	/** The OS ends the application. */
	static FApplicationLifetimeDelegate ApplicationWillTerminateDelegate;
};

// ------------------------------------------------------------------------------------------------ async (Async/Async.h)

enum class EAsyncExecution { TaskGraph, TaskGraphMainThread, Thread, ThreadIfForkSafe, ThreadPool, LargeThreadPool };

template <typename ResultType>
class TFuture
{
public:
	TFuture() = default;
	bool IsValid() const;
	bool IsReady() const;
	void Wait() const;
};

/** Runs Callable on another thread (EAsyncExecution) and answers its result as a future. A body only because a lambda
 *  (a local type) is passed; it runs nothing. */
template <typename CallableType>
auto Async(EAsyncExecution Execution, CallableType&& Callable, TUniqueFunction<void()> CompletionCallback = nullptr)
	-> TFuture<decltype(Callable())>
{
	(void)Execution;
	(void)Callable;
	(void)CompletionCallback;
	return TFuture<decltype(Callable())>();
}

// ------------------------------------------------------------------------------------------------ platform, files

struct FPaths
{
	static FString ProjectSavedDir();
	template <typename... PathTypes>
	static FString Combine(PathTypes&&... Paths);
};

struct FFileHelper
{
	static bool SaveStringToFile(const FString& String, const TCHAR* Filename);
	static bool LoadFileToString(FString& Result, const TCHAR* Filename);
};

class IFileManager
{
public:
	virtual ~IFileManager() = default;
	static IFileManager& Get();
	virtual bool Move(const TCHAR* Dest, const TCHAR* Src, bool Replace = true, bool EvenIfReadOnly = false,
		bool Attributes = false, bool bDoNotRetryOrError = false) = 0;
	virtual bool FileExists(const TCHAR* Filename) = 0;
	virtual bool Delete(const TCHAR* Filename, bool RequireExists = false, bool EvenReadOnly = false, bool Quiet = false) = 0;
	virtual bool DeleteDirectory(const TCHAR* Path, bool RequireExists = false, bool Tree = false) = 0;
};

/** HAL/CriticalSection.h and Misc/ScopeLock.h (working, over std::mutex, so the tests can run them). */
class FCriticalSection
{
public:
	void Lock() { Mutex.lock(); }
	void Unlock() { Mutex.unlock(); }
	bool TryLock() { return Mutex.try_lock(); }

private:
	std::mutex Mutex;
};

class FScopeLock
{
public:
	explicit FScopeLock(FCriticalSection* InSynchObject) : SynchObject(InSynchObject) { SynchObject->Lock(); }
	~FScopeLock() { SynchObject->Unlock(); }
	FScopeLock(const FScopeLock&) = delete;
	FScopeLock& operator=(const FScopeLock&) = delete;

private:
	FCriticalSection* SynchObject;
};

struct FCommandLine
{
	static const TCHAR* Get();
};

struct FParse
{
	static bool Value(const TCHAR* Stream, const TCHAR* Match, FString& Value, bool bShouldStopOnSeparator = true);
	static bool Param(const TCHAR* Stream, const TCHAR* Param);
};

struct FPlatformMisc
{
	static FString GetEnvironmentVariable(const TCHAR* VariableName);
};

struct FPlatformTime
{
	/** Seconds since an arbitrary start, from a clock that never goes back. */
	static double Seconds();
};

bool IsRunningDedicatedServer();

class IModuleInterface
{
public:
	virtual ~IModuleInterface() = default;
};

class FDefaultModuleImpl : public IModuleInterface {};

#define IMPLEMENT_MODULE(ModuleImplClass, ModuleName) static ModuleImplClass ModuleName##ModuleInstance

// ------------------------------------------------------------------------------------------------ UObject world

class UObject
{
public:
	using Super = UObject; // each stand-in base names itself, so a derived class's Super:: is its direct base
	virtual ~UObject() = default;
	class UWorld* GetWorld() const;
};

template <typename T>
T* NewObject(UObject* Outer = nullptr);

template <typename T>
const T* GetDefault();

template <typename T>
class TWeakObjectPtr
{
public:
	TWeakObjectPtr() = default;
	TWeakObjectPtr(T* InObject) : Object(InObject) {}
	T* Get() const { return Object; }
	bool IsValid() const { return Object != nullptr; }
	T* operator->() const { return Object; }

private:
	T* Object = nullptr;
};

class UGameInstance : public UObject
{
public:
	using Super = UGameInstance;
	template <typename TSubsystemClass>
	TSubsystemClass* GetSubsystem() const;
};

class UWorld : public UObject
{
public:
	using Super = UWorld;
	UGameInstance* GetGameInstance() const;
};

enum class EGetWorldErrorMode { ReturnNull, LogAndReturnNull, Assert };

class UEngine : public UObject
{
public:
	using Super = UEngine;
	UWorld* GetWorldFromContextObject(const UObject* Object, EGetWorldErrorMode ErrorMode) const;
};

extern UEngine* GEngine;

class FSubsystemCollectionBase {};

class USubsystem : public UObject
{
public:
	using Super = USubsystem;
	virtual bool ShouldCreateSubsystem(UObject* Outer) const;
	virtual void Initialize(FSubsystemCollectionBase& Collection);
	virtual void Deinitialize();
};

class UGameInstanceSubsystem : public USubsystem
{
public:
	using Super = UGameInstanceSubsystem;
	UGameInstance* GetGameInstance() const;
};

class UBlueprintAsyncActionBase : public UObject
{
public:
	using Super = UBlueprintAsyncActionBase;
	virtual void Activate();
	virtual void SetReadyToDestroy();
	void RegisterWithGameInstance(const UObject* WorldContextObject);
};

class UDeveloperSettings : public UObject
{
public:
	using Super = UDeveloperSettings;
};

class UGameplayStatics : public UObject
{
public:
	using Super = UGameplayStatics;
	static FString ParseOption(FString Options, const FString& Key);
};

// ------------------------------------------------------------------------------------------------ JSON (module "Json")

class FJsonObject;

enum class EJson { None, Null, String, Number, Boolean, Array, Object };

class FJsonValue
{
public:
	virtual ~FJsonValue() = default;
	EJson Type = EJson::None;

	virtual FString AsString() const;
	virtual double AsNumber() const;
	virtual bool AsBool() const;
	virtual TSharedPtr<FJsonObject> AsObject() const;
	virtual const TArray<TSharedPtr<FJsonValue>>& AsArray() const;
	virtual bool TryGetString(FString& OutString) const;
	virtual bool TryGetNumber(double& OutNumber) const;
	virtual bool TryGetNumber(int64& OutNumber) const;
	virtual bool TryGetBool(bool& OutBool) const;
	bool IsNull() const { return Type == EJson::Null || Type == EJson::None; }
};

class FJsonValueString : public FJsonValue { public: explicit FJsonValueString(const FString& InValue); };
class FJsonValueNumber : public FJsonValue { public: explicit FJsonValueNumber(double InValue); };
class FJsonValueBoolean : public FJsonValue { public: explicit FJsonValueBoolean(bool InValue); };
class FJsonValueNull : public FJsonValue { public: FJsonValueNull(); };
class FJsonValueObject : public FJsonValue { public: explicit FJsonValueObject(TSharedPtr<FJsonObject> InValue); };
class FJsonValueArray : public FJsonValue { public: explicit FJsonValueArray(const TArray<TSharedPtr<FJsonValue>>& InValue); };

class FJsonObject
{
public:
	TMap<FString, TSharedPtr<FJsonValue>> Values;

	TSharedPtr<FJsonValue> TryGetField(const FString& FieldName) const;
	bool HasField(const FString& FieldName) const;
	void SetField(const FString& FieldName, const TSharedPtr<FJsonValue>& Value);
	void RemoveField(const FString& FieldName);

	void SetStringField(const FString& FieldName, const FString& StringValue);
	void SetNumberField(const FString& FieldName, double Number);
	void SetBoolField(const FString& FieldName, bool InValue);
	void SetObjectField(const FString& FieldName, const TSharedPtr<FJsonObject>& JsonObject);
	void SetArrayField(const FString& FieldName, const TArray<TSharedPtr<FJsonValue>>& Array);

	bool TryGetStringField(const FString& FieldName, FString& OutString) const;
	bool TryGetNumberField(const FString& FieldName, double& OutNumber) const;
	bool TryGetNumberField(const FString& FieldName, int32& OutNumber) const;
	bool TryGetNumberField(const FString& FieldName, int64& OutNumber) const;
	bool TryGetBoolField(const FString& FieldName, bool& OutBool) const;
	bool TryGetObjectField(const FString& FieldName, const TSharedPtr<FJsonObject>*& OutObject) const;
	bool TryGetArrayField(const FString& FieldName, const TArray<TSharedPtr<FJsonValue>>*& OutArray) const;
};

template <typename CharType = TCHAR>
class TJsonReader {};

template <typename CharType = TCHAR>
class TJsonReaderFactory
{
public:
	static TSharedRef<TJsonReader<CharType>> Create(const FString& JsonString);
};

template <typename CharType = TCHAR> struct TPrettyJsonPrintPolicy {};
template <typename CharType = TCHAR> struct TCondensedJsonPrintPolicy {};

template <typename CharType = TCHAR, typename PrintPolicy = TPrettyJsonPrintPolicy<CharType>>
class TJsonWriter
{
public:
	bool Close();
};

template <typename CharType = TCHAR, typename PrintPolicy = TPrettyJsonPrintPolicy<CharType>>
class TJsonWriterFactory
{
public:
	static TSharedRef<TJsonWriter<CharType, PrintPolicy>> Create(FString* const Stream);
};

class FJsonSerializer
{
public:
	template <typename CharType>
	static bool Deserialize(const TSharedRef<TJsonReader<CharType>>& Reader, TSharedPtr<FJsonObject>& OutObject);
	template <typename CharType>
	static bool Deserialize(const TSharedRef<TJsonReader<CharType>>& Reader, TSharedPtr<FJsonValue>& OutValue);
	template <typename CharType, typename PrintPolicy>
	static bool Serialize(const TSharedRef<FJsonObject>& Object, const TSharedRef<TJsonWriter<CharType, PrintPolicy>>& Writer, bool bCloseWriter = true);
};

// ------------------------------------------------------------------------------------------------ HTTP (module "HTTP")

class IHttpRequest;
class IHttpResponse;
using FHttpRequestPtr = TSharedPtr<IHttpRequest, ESPMode::ThreadSafe>;
using FHttpResponsePtr = TSharedPtr<IHttpResponse, ESPMode::ThreadSafe>;
using FHttpRequestCompleteDelegate = TDelegate<void(FHttpRequestPtr, FHttpResponsePtr, bool)>;

class IHttpResponse
{
public:
	virtual ~IHttpResponse() = default;
	virtual int32 GetResponseCode() const = 0;
	virtual FString GetContentAsString() const = 0;
	virtual FString GetHeader(const FString& HeaderName) const = 0;
};

class IHttpRequest
{
public:
	virtual ~IHttpRequest() = default;
	virtual void SetURL(const FString& URL) = 0;
	virtual void SetVerb(const FString& Verb) = 0;
	virtual void SetHeader(const FString& HeaderName, const FString& HeaderValue) = 0;
	virtual void SetContentAsString(const FString& ContentString) = 0;
	virtual void SetTimeout(float InTimeoutSecs) = 0;
	virtual bool ProcessRequest() = 0;
	virtual void CancelRequest() = 0;
	virtual FHttpRequestCompleteDelegate& OnProcessRequestComplete() = 0;
};

class FHttpModule
{
public:
	static FHttpModule& Get();
	TSharedRef<IHttpRequest, ESPMode::ThreadSafe> CreateRequest();
};
