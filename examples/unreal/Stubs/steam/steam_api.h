// COMPILE-ONLY STAND-IN for the Steamworks SDK header (engine ThirdParty module "Steamworks"); see UnrealStubs.h.
// Declares only what GamingPanelCredentials.cpp uses, with the SDK's names and signatures, as the Steamworks
// SDK the engine version ships: UE 5.4 ships Steamworks 1.57, the first with GetAuthTicketForWebApi and
// GetTicketForWebApiResponse_t; UE 5.1 to 5.3 ship 1.53a, which has neither (only GetAuthSessionTicket).
#pragma once

#include "Runtime/Launch/Resources/Version.h"

#define GAMINGPANEL_STUB_STEAMWORKS_157 (ENGINE_MAJOR_VERSION > 5 || (ENGINE_MAJOR_VERSION == 5 && ENGINE_MINOR_VERSION >= 4))

typedef unsigned int HAuthTicket;
const HAuthTicket k_HAuthTicketInvalid = 0;

enum EResult
{
	k_EResultNone = 0,
	k_EResultOK = 1,
	k_EResultFail = 2,
};

#if GAMINGPANEL_STUB_STEAMWORKS_157
struct GetTicketForWebApiResponse_t
{
	enum { k_iCallback = 168 };
	HAuthTicket m_hAuthTicket;
	EResult m_eResult;
	int m_cubTicket;
	static const int k_nCubTicketMaxLength = 2560;
	unsigned char m_rgubTicket[k_nCubTicketMaxLength];
};
#endif

class ISteamUser
{
public:
#if GAMINGPANEL_STUB_STEAMWORKS_157
	virtual HAuthTicket GetAuthTicketForWebApi(const char* pchIdentity) = 0;
#endif
	virtual HAuthTicket GetAuthSessionTicket(void* pTicket, int cbMaxTicket, unsigned int* pcbTicket) = 0;
	virtual void CancelAuthTicket(HAuthTicket hAuthTicket) = 0;
};

ISteamUser* SteamUser();

template <class T, class P, bool bGameServer = false>
class CCallback
{
public:
	typedef void (T::*func_t)(P*);
	CCallback(T* pObj, func_t func);
	void Unregister();
};
