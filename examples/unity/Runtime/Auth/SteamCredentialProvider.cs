// Gaming Panel Unity example: Steam login through Steamworks.NET.
//
// Needs Steamworks.NET (https://steamworks.github.io) and Steam initialised (its SteamManager script, which
// also pumps SteamAPI.RunCallbacks() every frame; without that the ticket callback never arrives).
// Steamworks.NET's installer adds the STEAMWORKS_NET scripting define; without it this file compiles to
// nothing, so the SDK also builds for platforms without Steam.
#if STEAMWORKS_NET || !UNITY_5_3_OR_NEWER
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Steamworks;

namespace GamingPanel
{
    /// <summary>
    /// Asks Steam for a Web API ticket (ISteamUser::GetAuthTicketForWebApi) and sends it hex-encoded as
    /// {"platform": "steam", "credentials": {"ticket": "..."}}. The backend checks it with
    /// ISteamUserAuth/AuthenticateUserTicket and that the account owns the game.
    /// </summary>
    public sealed class SteamCredentialProvider : ICredentialProvider
    {
        readonly string _identity;
        readonly TimeSpan _timeout;

        /// <param name="identity">
        /// Must equal the "identity" set in the panel's Steam settings for this game (tickets made for one
        /// identity are refused for another). Pass null if the panel has none configured.
        /// </param>
        public SteamCredentialProvider(string identity = "gamingpanel", float timeoutSeconds = 10f)
        {
            _identity = identity;
            _timeout = TimeSpan.FromSeconds(timeoutSeconds);
        }

        public string Platform { get { return "steam"; } }

        public async Task<PlatformCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
        {
            var completion = new TaskCompletionSource<GetTicketForWebApiResponse_t>();
            HAuthTicket requested = HAuthTicket.Invalid;
            // Register before asking: the callback may fire on the very next RunCallbacks().
            Callback<GetTicketForWebApiResponse_t> callback = Callback<GetTicketForWebApiResponse_t>.Create(response =>
            {
                if (response.m_hAuthTicket == requested) completion.TrySetResult(response);
            });
            try
            {
                requested = SteamUser.GetAuthTicketForWebApi(_identity);
                if (requested == HAuthTicket.Invalid)
                    throw new ApiError(0, ErrorCodes.CredentialsUnavailable, "Steam unavailable", "Steam refused to create a Web API ticket. Is the Steam client running and logged in?");

                Task finished = await Task.WhenAny(completion.Task, Task.Delay(_timeout, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                if (finished != completion.Task)
                {
                    SteamUser.CancelAuthTicket(requested);
                    throw new ApiError(0, ErrorCodes.CredentialsUnavailable, "Steam timeout", "No ticket from Steam in time. Is SteamAPI.RunCallbacks() being called?");
                }

                GetTicketForWebApiResponse_t ticket = completion.Task.Result;
                if (ticket.m_eResult != EResult.k_EResultOK)
                {
                    SteamUser.CancelAuthTicket(requested);
                    throw new ApiError(0, ErrorCodes.CredentialsUnavailable, "Steam ticket failed", "Steam answered " + ticket.m_eResult + ".");
                }

                HAuthTicket handle = requested;
                return new PlatformCredentials
                {
                    Platform = Platform,
                    Credentials = new Dictionary<string, object> { { "ticket", ToHex(ticket.m_rgubTicket, ticket.m_cubTicket) } },
                    // The backend has used the ticket once login returns; cancel it so it cannot be replayed.
                    Release = () => SteamUser.CancelAuthTicket(handle),
                };
            }
            finally
            {
                callback.Dispose();
            }
        }

        static string ToHex(byte[] bytes, int length)
        {
            var hex = new StringBuilder(length * 2);
            for (int i = 0; i < length; i++) hex.Append(bytes[i].ToString("x2"));
            return hex.ToString();
        }
    }
}
#endif
