// COMPILE-ONLY STAND-IN for the Steamworks SDK header (engine ThirdParty module "Steamworks"); see UnrealStubs.h.
// Declares only what GamingPanelCredentials.cpp uses, with the SDK's names and signatures.
#pragma once

typedef unsigned int HAuthTicket;
const HAuthTicket k_HAuthTicketInvalid = 0;

enum EResult
{
	k_EResultNone = 0,
	k_EResultOK = 1,
	k_EResultFail = 2,
};

struct GetTicketForWebApiResponse_t
{
	enum { k_iCallback = 168 };
	HAuthTicket m_hAuthTicket;
	EResult m_eResult;
	int m_cubTicket;
	static const int k_nCubTicketMaxLength = 2560;
	unsigned char m_rgubTicket[k_nCubTicketMaxLength];
};

class ISteamUser
{
public:
	virtual HAuthTicket GetAuthTicketForWebApi(const char* pchIdentity) = 0;
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
