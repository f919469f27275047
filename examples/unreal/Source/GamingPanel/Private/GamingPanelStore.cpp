// Gaming Panel Unreal example: the store account token (see GamingPanelStore in GamingPanelHttp.h). On its own so
// scripts/check_examples.sh can build and run it against the server's values (examples/unreal/Tests).
#include "GamingPanelHttp.h"
#include "Misc/SecureHash.h"

FString GamingPanelStore::AccountTokenFor(const FString& PlayerId)
{
	static const uint8 Namespace[16] = {
		0x30, 0xe9, 0xef, 0x35, 0xf0, 0x3c, 0x5a, 0xd2, 0xa8, 0x65, 0x50, 0xd1, 0xcf, 0x91, 0x59, 0x6e,
	};
	const FTCHARToUTF8 Name(*PlayerId);
	if (PlayerId.IsEmpty() || Name.Length() > 64)
	{
		return FString();
	}
	uint8 Data[16 + 64];
	FMemory::Memcpy(Data, Namespace, 16);
	FMemory::Memcpy(Data + 16, Name.Get(), Name.Length());
	uint8 Hash[20];
	FSHA1::HashBuffer(Data, 16 + Name.Length(), Hash);
	Hash[6] = static_cast<uint8>((Hash[6] & 0x0F) | 0x50); // version 5
	Hash[8] = static_cast<uint8>((Hash[8] & 0x3F) | 0x80); // RFC 4122 variant
	const FString Hex = BytesToHex(Hash, 16).ToLower();
	return Hex.Mid(0, 8) + TEXT("-") + Hex.Mid(8, 4) + TEXT("-") + Hex.Mid(12, 4) + TEXT("-") + Hex.Mid(16, 4) + TEXT("-") + Hex.Mid(20, 12);
}
