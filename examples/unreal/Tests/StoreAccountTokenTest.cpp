// Runs GamingPanelStore::AccountTokenFor (Private/GamingPanelStore.cpp) outside the engine, against the values
// the server derives (apps.payments.providers.base.player_account_token), so the plugin and the server agree
// on the token a store purchase carries. Built and run by scripts/check_examples.sh with g++; the engine
// functions it needs are given here (SHA-1 included, so no library is required).
#include "GamingPanelHttp.h"
#include "Misc/SecureHash.h"

#include <cstdio>
#include <cstring>
#include <cwctype>
#include <map>
#include <string>

// ---------------------------------------------------------------- the few engine functions the token uses

namespace
{
std::map<const FTCHARToUTF8*, std::string>& Utf8Buffers()
{
	static std::map<const FTCHARToUTF8*, std::string> Buffers;
	return Buffers;
}

std::uint32_t Rotl(std::uint32_t Value, int Bits) { return (Value << Bits) | (Value >> (32 - Bits)); }
}

FTCHARToUTF8::FTCHARToUTF8(const TCHAR* Source)
{
	std::string Text;
	for (const TCHAR* C = Source; *C; ++C) Text.push_back(static_cast<char>(*C)); // player ids are ASCII digits
	Utf8Buffers()[this] = Text;
}
const ANSICHAR* FTCHARToUTF8::Get() const { return Utf8Buffers()[this].c_str(); }
int32 FTCHARToUTF8::Length() const { return static_cast<int32>(Utf8Buffers()[this].size()); }

void* FMemory::Memcpy(void* Dest, const void* Src, std::size_t Count) { return std::memcpy(Dest, Src, Count); }

FString BytesToHex(const uint8* Bytes, int32 Count)
{
	static const wchar_t* Digits = L"0123456789ABCDEF"; // upper case, as the engine's
	std::wstring Text;
	for (int32 I = 0; I < Count; ++I)
	{
		Text.push_back(Digits[Bytes[I] >> 4]);
		Text.push_back(Digits[Bytes[I] & 0x0F]);
	}
	return FString(Text);
}

FString FString::ToLower() const
{
	std::wstring Lower = Data;
	for (wchar_t& C : Lower) C = static_cast<wchar_t>(std::towlower(C));
	return FString(Lower);
}

void FSHA1::HashBuffer(const void* Data, uint64 DataSize, uint8* OutHash)
{
	std::string Message(static_cast<const char*>(Data), static_cast<std::size_t>(DataSize));
	const uint64 BitLength = DataSize * 8;
	Message.push_back(static_cast<char>(0x80));
	while (Message.size() % 64 != 56) Message.push_back('\0');
	for (int Shift = 56; Shift >= 0; Shift -= 8) Message.push_back(static_cast<char>((BitLength >> Shift) & 0xFF));
	std::uint32_t H[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
	for (std::size_t Chunk = 0; Chunk < Message.size(); Chunk += 64)
	{
		std::uint32_t W[80];
		for (int I = 0; I < 16; ++I)
		{
			const unsigned char* P = reinterpret_cast<const unsigned char*>(&Message[Chunk + I * 4]);
			W[I] = (std::uint32_t(P[0]) << 24) | (std::uint32_t(P[1]) << 16) | (std::uint32_t(P[2]) << 8) | P[3];
		}
		for (int I = 16; I < 80; ++I) W[I] = Rotl(W[I - 3] ^ W[I - 8] ^ W[I - 14] ^ W[I - 16], 1);
		std::uint32_t A = H[0], B = H[1], C = H[2], D = H[3], E = H[4];
		for (int I = 0; I < 80; ++I)
		{
			std::uint32_t F, K;
			if (I < 20) { F = (B & C) | (~B & D); K = 0x5A827999u; }
			else if (I < 40) { F = B ^ C ^ D; K = 0x6ED9EBA1u; }
			else if (I < 60) { F = (B & C) | (B & D) | (C & D); K = 0x8F1BBCDCu; }
			else { F = B ^ C ^ D; K = 0xCA62C1D6u; }
			const std::uint32_t Next = Rotl(A, 5) + F + E + K + W[I];
			E = D; D = C; C = Rotl(B, 30); B = A; A = Next;
		}
		H[0] += A; H[1] += B; H[2] += C; H[3] += D; H[4] += E;
	}
	for (int I = 0; I < 5; ++I)
		for (int J = 0; J < 4; ++J) OutHash[I * 4 + J] = static_cast<uint8>(H[I] >> (24 - 8 * J));
}

// ---------------------------------------------------------------- the checks

int main()
{
	struct { const TCHAR* PlayerId; const TCHAR* Expected; } Cases[] = {
		{TEXT("42"), TEXT("899409a3-857b-5c2f-af3e-a4322d42bee8")},
		{TEXT("7"), TEXT("34e9da76-33d4-59f4-a54e-360b4ed42d19")},
		{TEXT("123456789"), TEXT("0eabb5ca-b35f-5361-b2be-5b0ba01f7daf")},
		{TEXT(""), TEXT("")},
	};
	int Failed = 0;
	for (const auto& Case : Cases)
	{
		const FString Token = GamingPanelStore::AccountTokenFor(FString(Case.PlayerId));
		const bool bOk = Token == Case.Expected;
		std::printf("  %s  player \"%ls\" -> %ls\n", bOk ? "ok  " : "FAIL", Case.PlayerId, *Token);
		Failed += bOk ? 0 : 1;
	}
	std::printf("unreal store account token: %d passed, %d failed\n", static_cast<int>(sizeof(Cases) / sizeof(Cases[0])) - Failed, Failed);
	return Failed == 0 ? 0 : 1;
}
