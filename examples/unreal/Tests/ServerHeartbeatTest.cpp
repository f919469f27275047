// Runs the Unreal kit's heartbeat schedule outside the engine: FGamingPanelHeartbeatSchedule
// (Public/GamingPanelHeartbeatSchedule.h), which UGamingPanelServerSubsystem asks after each beat's answer when to beat
// next. The panel lists a server for ttl_seconds after its last beat, so: a third of ttl_seconds between beats (10 s
// before the first answer), a failed beat sent again after 2 s (once), 409 too_many_servers beaten again with
// backoff instead of stopping, and never sooner than a 429's or 503's Retry-After. Built and run with g++ (see scripts/check_examples.sh); exits 1 when a check fails.
#include "GamingPanelHeartbeatSchedule.h"

#include <cstdio>
#include <string>
#include <vector>

namespace
{
int Passed = 0;
int Failed = 0;

using EOutcome = FGamingPanelHeartbeatSchedule::EOutcome;

struct FBeat
{
	bool bOk;
	int32 Status;
	const TCHAR* Code;
	int64 Ttl;
	float RetryAfter = -1.f; // the refusal's Retry-After header, in seconds (-1: none)
};

const FBeat Ok30{true, 200, TEXT(""), 30};
const FBeat Ok60{true, 200, TEXT(""), 60};
const FBeat Offline{false, 0, TEXT("network_error"), 0};
const FBeat Unavailable{false, 503, TEXT("service_unavailable"), 0};
const FBeat Full{false, 409, TEXT("too_many_servers"), 0};
const FBeat Taken{false, 409, TEXT("server_id_taken"), 0};
const FBeat Limited30{false, 429, TEXT("rate_limited"), 0, 30.f};
const FBeat Down5{false, 503, TEXT("service_unavailable"), 0, 5.f};
const FBeat Full90{false, 409, TEXT("too_many_servers"), 0, 90.f};

/** The waits the schedule answers for these beats, as "a,b,c". */
std::string Waits(FGamingPanelHeartbeatSchedule& Schedule, const std::vector<FBeat>& Beats)
{
	std::string Out;
	for (const FBeat& Beat : Beats)
	{
		const float Wait = Schedule.Next(FGamingPanelHeartbeatSchedule::Classify(Beat.bOk, Beat.Status, FString(Beat.Code)), Beat.Ttl,
			Beat.RetryAfter);
		char Text[32];
		std::snprintf(Text, sizeof(Text), "%g", static_cast<double>(Wait));
		if (!Out.empty()) Out += ",";
		Out += Text;
	}
	return Out;
}

void Check(const char* Name, bool bOk, const std::string& Detail = std::string())
{
	std::printf("  %s  %s%s%s\n", bOk ? "ok  " : "FAIL", Name, Detail.empty() ? "" : ": ", Detail.c_str());
	(bOk ? Passed : Failed)++;
}
}

int main()
{
	{
		FGamingPanelHeartbeatSchedule Schedule;
		Check("10 s between beats until the panel answers", Schedule.IntervalSeconds == 10.f);
		const std::string Got = Waits(Schedule, {Ok30, Ok60, Ok30});
		Check("a third of the answer's ttl_seconds", Got == "10,20,10", Got);
		Check("listed and registered after a beat went through", Schedule.bListed && Schedule.bRegistered);
	}
	{
		FGamingPanelHeartbeatSchedule Schedule;
		const std::string Got = Waits(Schedule, {Offline, Offline, Ok30, Offline, Unavailable, Unavailable, Ok60, Taken, Ok30});
		Check("a failed beat is sent again after 2 s, once, then at the interval", Got == "2,10,10,2,10,10,20,2,10", Got);
	}
	{
		FGamingPanelHeartbeatSchedule Schedule;
		const std::string Got = Waits(Schedule, {Full, Full, Full, Full, Full, Full});
		Check("409 too_many_servers: beaten again with backoff, up to a minute", Got == "10,20,40,60,60,60", Got);
		Check("not listed, nothing to deregister", !Schedule.bListed && !Schedule.bRegistered);
		const std::string Then = Waits(Schedule, {Ok30, Full, Full});
		Check("listed once a place frees; the backoff starts again after", Then == "10,10,20", Then);
		Check("a server listed once is deregistered on shutdown even when its last beat was refused", !Schedule.bListed && Schedule.bRegistered);
	}
	{
		FGamingPanelHeartbeatSchedule Schedule;
		const std::string Got = Waits(Schedule, {Ok30, Limited30, Ok30, Down5, Down5, Ok30, Full90});
		Check("a 429's or 503's Retry-After is waited for (not the 2 s retry), and a longer wait kept", Got == "10,30,10,5,10,10,90", Got);
	}
	{
		FGamingPanelHeartbeatSchedule Schedule;
		const std::string Got = Waits(Schedule, {{true, 200, TEXT(""), 1}, {true, 200, TEXT(""), 0}});
		Check("at least 1 s; an answer without ttl_seconds keeps the interval", Got == "1,1", Got);
	}
	std::printf("unreal server heartbeat: %d passed, %d failed\n", Passed, Failed);
	return Failed == 0 ? 0 : 1;
}
