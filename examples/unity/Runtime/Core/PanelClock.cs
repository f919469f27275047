// Gaming Panel Unity example: the panel's clock as the device sees it.
//
// A phone's clock may run minutes (or days) off, and players set it forward to skip game timers. The panel takes
// an analytics event only when its occurred_at is at most 5 minutes ahead of the panel's own clock, so the kit
// keeps the offset between the two, learned from the Date header (HTTP-date, to the second) of every panel answer
// that reaches it, and stamps times with UtcNow here rather than DateTime.UtcNow. Kept in memory only: until the
// first answer of a run (the login, usually) the offset is unknown and UtcNow is the device's clock.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace GamingPanel
{
    public sealed class PanelClock
    {
        readonly object _lock = new object();
        TimeSpan? _offset;

        /// <summary>The panel's clock minus the device's, once a panel answer carried a Date header; null before.</summary>
        public TimeSpan? Offset
        {
            get { lock (_lock) return _offset; }
        }

        /// <summary>Now by the panel's clock: the device's, corrected by the offset when it is known.</summary>
        public DateTime UtcNow
        {
            get { return DateTime.UtcNow + (Offset ?? TimeSpan.Zero); }
        }

        /// <summary>Learns the offset from a Date header ("Sun, 06 Dec 2026 16:40:00 GMT"); ignores what it cannot read.</summary>
        public void Learn(string dateHeader)
        {
            DateTime panel;
            if (string.IsNullOrEmpty(dateHeader) || !DateTime.TryParseExact(dateHeader.Trim(), "r", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out panel))
                return;
            TimeSpan offset = panel - DateTime.UtcNow;
            lock (_lock) _offset = offset;
        }

        /// <summary>Passes every exchange to the game's transport and learns the clock from the answers' Date headers.</summary>
        internal sealed class LearningTransport : IGamingPanelTransport
        {
            readonly IGamingPanelTransport _inner;
            readonly PanelClock _clock;

            public LearningTransport(IGamingPanelTransport inner, PanelClock clock)
            {
                _inner = inner;
                _clock = clock;
            }

            public async Task<HttpResult> SendAsync(string method, string path, object body,
                IDictionary<string, string> headers, CancellationToken cancellationToken)
            {
                // Only 2xx answers come back with their headers (anything else is an ApiError): enough, as the login
                // and every successful call carry the panel's Date.
                HttpResult result = await _inner.SendAsync(method, path, body, headers, cancellationToken);
                if (result != null) _clock.Learn(result.Header("Date"));
                return result;
            }
        }
    }
}
