// Gaming Panel Unity example: how the game proves who the player is on its platform.
//
// A provider returns the body fields for POST auth/third-party/login: {"platform", "credentials": {...}}.
// The backend verifies them server-to-server with the platform; the game never sees a password.
// Providers are asked again whenever the session must be re-created (the refresh token was refused), so
// they must be able to produce *fresh* credentials each time (Steam tickets are single-use).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel
{
    public sealed class PlatformCredentials
    {
        public string Platform;
        public Dictionary<string, object> Credentials;

        /// <summary>Called once the login request has finished, successful or not (e.g. to cancel a Steam ticket).</summary>
        public Action Release;
    }

    public interface ICredentialProvider
    {
        string Platform { get; }
        Task<PlatformCredentials> GetCredentialsAsync(CancellationToken cancellationToken);
    }

    /// <summary>
    /// Sandbox login: any user id, no platform. Only accepted by games in sandbox mode (the local demo game is),
    /// so it is safe to leave in development builds and useless against a live game.
    /// </summary>
    public sealed class DevCredentialProvider : ICredentialProvider
    {
        readonly string _userId;
        readonly string _displayName;

        /// <param name="userId">Letters, digits, "_", "." or "-", 1 to 64 characters.</param>
        public DevCredentialProvider(string userId, string displayName = null)
        {
            if (string.IsNullOrEmpty(userId)) throw new ArgumentException("userId is required.");
            _userId = userId;
            _displayName = displayName;
        }

        public string Platform { get { return "dev"; } }

        public Task<PlatformCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
        {
            var credentials = new Dictionary<string, object> { { "user_id", _userId } };
            if (!string.IsNullOrEmpty(_displayName)) credentials["display_name"] = _displayName;
            return Task.FromResult(new PlatformCredentials { Platform = Platform, Credentials = credentials });
        }
    }
}
