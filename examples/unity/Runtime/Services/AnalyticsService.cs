// Gaming Panel Unity example: the game's own analytics events (level_complete, tutorial_step, ...), shown on the
// panel's dashboard under "Game events".
//
// Track writes the event to a queue on disk (per player) with its time and an event_id; FlushAsync sends the queue
// to POST analytics/events in batches of at most 100:
//   - 202/207 whose JSON body carries `accepted` (the panel's receipt): the batch is taken off the queue (with 207
//     the panel refused some events for good: sending them again would get the same answer, so they go too, and are
//     reported in Rejected);
//   - no answer, 429, 5xx, a session that could not be renewed, and any answer that is not the panel's (an empty
//     2xx, a captive portal's page, a proxy's HTML 400): the batch stays for the next flush; the event ids make an
//     event that did reach the panel count once;
//   - 400 for the whole batch as the panel's problem document (JSON with a code): it can never be taken as it is;
//     it is dropped (and logged);
//   - 413 (the batch's body is too big): sent again in halves; a single event still too big is dropped.
// Events older than the panel takes (7 days) are dropped before sending, and the queue keeps at most MaxQueued
// events (the oldest go first), so a device that is offline for weeks does not grow without bound.
// Times are the panel's clock (GamingPanelClient.Clock: the device's, corrected by the offset learned from the Date
// header of the panel's answers), as the panel refuses an event more than 5 minutes ahead of its own clock: a phone
// set minutes forward would otherwise lose every event. An event tracked this run before any answer told the offset
// is stamped with the device's time and corrected once the offset is known (same run, so the same device clock); one
// left uncorrected from an earlier run keeps its time, and no event goes out more than 4 minutes ahead of the
// panel's now (it is sent as now).
// See docs/analytics.md.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    public sealed class AnalyticsService
    {
        const string QueueName = "analytics_queue";
        /// <summary>The panel takes at most this many events per call (ANALYTICS_MAX_BATCH).</summary>
        public const int MaxBatch = 100;
        /// <summary>The most events kept while offline; past it the oldest are dropped.</summary>
        public const int MaxQueued = 2000;
        /// <summary>The most bytes of properties the panel takes per event (ANALYTICS_MAX_PROPERTIES_BYTES).</summary>
        public const int MaxPropertiesBytes = 4096;
        // The panel refuses events more than 7 days old; an hour's margin for the device's clock.
        static readonly TimeSpan MaxAge = TimeSpan.FromDays(7) - TimeSpan.FromHours(1);
        // The panel refuses events more than 5 minutes ahead of its clock; a minute's margin.
        static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(4);
        const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        static readonly Regex EventName = new Regex("^[a-z][a-z0-9_]{0,63}$");

        readonly GamingPanelClient _client;
        readonly object _queueLock = new object();
        readonly SemaphoreSlim _flushing = new SemaphoreSlim(1, 1);
        // Tracked before a player logged in: written to that player's queue once one has.
        readonly List<Dictionary<string, object>> _beforeLogin = new List<Dictionary<string, object>>();
        // Players whose queue file can be neither read nor moved aside: their queue is kept here this session, and
        // the file is never written over (LocalCache.LoadState).
        readonly Dictionary<string, List<object>> _inMemory = new Dictionary<string, List<object>>();
        // Events tracked this run before the panel's clock was known (device time): corrected by Load once it is.
        readonly HashSet<string> _deviceTimed = new HashSet<string>();

        public AnalyticsService(GamingPanelClient client)
        {
            _client = client;
        }

        /// <summary>Events the panel refused for good in the last flush (207), with its reasons.</summary>
        public List<Dictionary<string, object>> Rejected { get; private set; } = new List<Dictionary<string, object>>();

        /// <summary>
        /// Queues one event, to be sent by the next FlushAsync. `name` is lower-case letters, digits and `_`, starting
        /// with a letter (the panel's own facts, such as session_start or purchase_completed, are refused there).
        /// </summary>
        public void Track(string name, Dictionary<string, object> properties = null)
        {
            if (name == null || !EventName.IsMatch(name))
                throw new ArgumentException("An event name is a lower-case letter, then up to 63 lower-case letters, digits or '_'.", "name");
            Dictionary<string, object> given = properties ?? new Dictionary<string, object>();
            if (System.Text.Encoding.UTF8.GetByteCount(Json.Serialize(given)) > MaxPropertiesBytes)
                throw new ArgumentException("An event's properties are at most " + MaxPropertiesBytes + " bytes of JSON.", "properties");
            var analyticsEvent = new Dictionary<string, object>
            {
                { "event_id", Guid.NewGuid().ToString("N") },
                { "name", name },
                { "occurred_at", _client.Clock.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture) },
                { "properties", given },
            };
            lock (_queueLock)
            {
                if (!_client.Clock.Offset.HasValue) _deviceTimed.Add((string)analyticsEvent["event_id"]);
                string playerId = _client.Auth.PlayerId;
                if (string.IsNullOrEmpty(playerId))
                {
                    _beforeLogin.Add(analyticsEvent);
                    return;
                }
                List<object> queue = Load(playerId);
                queue.Add(analyticsEvent);
                Save(playerId, queue);
            }
        }

        /// <summary>How many events wait to be sent.</summary>
        public int Pending
        {
            get
            {
                lock (_queueLock)
                {
                    string playerId = _client.Auth.PlayerId;
                    return _beforeLogin.Count + (string.IsNullOrEmpty(playerId) ? 0 : Load(playerId).Count);
                }
            }
        }

        /// <summary>Sends the queued events (call it now and then, and when the game pauses); how many the panel took.</summary>
        public async Task<int> FlushAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            await _flushing.WaitAsync(cancellationToken);
            try
            {
                Rejected = new List<Dictionary<string, object>>();
                string playerId = _client.Auth.PlayerId;
                if (string.IsNullOrEmpty(playerId)) return 0;
                int taken = 0;
                int batchSize = MaxBatch;
                while (true)
                {
                    List<object> batch;
                    lock (_queueLock)
                    {
                        List<object> queue = Load(playerId);
                        batch = queue.GetRange(0, Math.Min(batchSize, queue.Count));
                    }
                    if (batch.Count == 0) return taken;
                    batch = NotAhead(batch);
                    // This player's events go with this player's session only: another login meanwhile stops the flush.
                    if (_client.Auth.PlayerId != playerId) return taken;
                    HttpResult result;
                    try
                    {
                        // Not retried here: the queue is the retry (the next flush sends it again).
                        result = await _client.SendAuthorizedAsync("POST", "analytics/events",
                            new Dictionary<string, object> { { "events", batch } }, null, false, cancellationToken);
                    }
                    catch (ApiError error)
                    {
                        if (error.Status == 413 && batch.Count > 1)
                        {
                            batchSize = Math.Max(1, batch.Count / 2); // too big together: send smaller batches
                            continue;
                        }
                        // A 400 drops the batch only as the panel's problem document (JSON with a code): a proxy's or a
                        // captive portal's 400 page says nothing about the events.
                        bool refused = (error.Status == 400 && error.IsProblemDocument) || error.Status == 413;
                        if (!refused || error.IsTransient) return taken; // kept for the next flush
                        Debug.LogWarning("[GamingPanel] analytics batch refused (" + error.Code + "): dropped.");
                        Remove(playerId, batch);
                        continue;
                    }
                    Dictionary<string, object> answer = PanelsReceipt(result);
                    if (answer == null)
                    {
                        // An empty 2xx, a page, JSON without `accepted`: not the panel's answer (a proxy, a captive
                        // portal), so nothing says the events arrived. Kept for the next flush; their ids make them count once.
                        Debug.LogWarning("[GamingPanel] analytics: the answer (HTTP " + result.Status + ") is not the panel's; the batch is kept.");
                        return taken;
                    }
                    List<object> rejected = Json.GetArray(answer, "rejected");
                    if (rejected != null)
                        foreach (object item in rejected)
                            if (item is Dictionary<string, object>) Rejected.Add((Dictionary<string, object>)item);
                    taken += batch.Count - (rejected == null ? 0 : rejected.Count);
                    Remove(playerId, batch);
                }
            }
            finally
            {
                _flushing.Release();
            }
        }

        /// <summary>The panel's receipt for a batch: a 202 or 207 whose JSON body carries `accepted`; null for anything else.</summary>
        static Dictionary<string, object> PanelsReceipt(HttpResult result)
        {
            if (result.Status != 202 && result.Status != 207) return null;
            Dictionary<string, object> answer;
            try { answer = result.Json as Dictionary<string, object>; }
            catch (ApiError) { return null; } // not JSON
            object accepted;
            if (answer == null || !answer.TryGetValue("accepted", out accepted) || !(accepted is long || accepted is double)) return null;
            return answer;
        }

        /// <summary>The batch with no time more than MaxAhead past the panel's now (such a time is sent as now).</summary>
        List<object> NotAhead(List<object> batch)
        {
            DateTime now = _client.Clock.UtcNow;
            var sent = new List<object>(batch.Count);
            foreach (object item in batch)
            {
                var analyticsEvent = item as Dictionary<string, object>;
                DateTime? at = Json.GetDateTime(analyticsEvent, "occurred_at");
                if (analyticsEvent != null && at.HasValue && at.Value > now + MaxAhead)
                {
                    analyticsEvent = new Dictionary<string, object>(analyticsEvent);
                    analyticsEvent["occurred_at"] = now.ToString(TimeFormat, CultureInfo.InvariantCulture);
                    sent.Add(analyticsEvent);
                }
                else sent.Add(item);
            }
            return sent;
        }

        void Remove(string playerId, List<object> sent)
        {
            var ids = new HashSet<string>();
            foreach (object item in sent) ids.Add(Json.GetString(item as Dictionary<string, object>, "event_id"));
            lock (_queueLock)
            {
                List<object> queue = Load(playerId);
                queue.RemoveAll(item => ids.Contains(Json.GetString(item as Dictionary<string, object>, "event_id")));
                Save(playerId, queue);
            }
        }

        /// <summary>The player's queue, with events tracked before login added and those too old dropped.</summary>
        List<object> Load(string playerId)
        {
            List<object> queue;
            if (!_inMemory.TryGetValue(playerId, out queue))
            {
                // A queue file that cannot be read is never written over by the next Track (its events would be
                // lost): it is moved aside, or, when it cannot be moved, the queue is kept in memory this session.
                string body;
                switch (_client.Cache.LoadState(playerId, QueueName, text => Json.Parse(text) is List<object>, "Analytics", out body))
                {
                    case LocalCache.StateRead.Read:
                        queue = (List<object>)Json.Parse(body);
                        break;
                    case LocalCache.StateRead.MemoryOnly:
                        queue = new List<object>();
                        _inMemory[playerId] = queue;
                        break;
                    default:
                        queue = new List<object>();
                        break;
                }
            }
            bool changed = _beforeLogin.Count > 0;
            queue.AddRange(_beforeLogin);
            _beforeLogin.Clear();
            TimeSpan? offset = _client.Clock.Offset;
            if (offset.HasValue && _deviceTimed.Count > 0)
            {
                // Tracked this run before the offset was known: the device's time then, corrected now.
                foreach (object item in queue)
                {
                    var analyticsEvent = item as Dictionary<string, object>;
                    string id = Json.GetString(analyticsEvent, "event_id");
                    DateTime? at = Json.GetDateTime(analyticsEvent, "occurred_at");
                    if (id == null || !at.HasValue || !_deviceTimed.Remove(id)) continue;
                    analyticsEvent["occurred_at"] = (at.Value + offset.Value).ToString(TimeFormat, CultureInfo.InvariantCulture);
                    changed = true;
                }
            }
            DateTime oldest = _client.Clock.UtcNow - MaxAge;
            int before = queue.Count;
            queue.RemoveAll(item =>
            {
                DateTime? at = Json.GetDateTime(item as Dictionary<string, object>, "occurred_at");
                return !at.HasValue || at.Value < oldest;
            });
            if (queue.Count > MaxQueued) queue.RemoveRange(0, queue.Count - MaxQueued);
            if (changed || queue.Count != before) Save(playerId, queue);
            return queue;
        }

        void Save(string playerId, List<object> queue)
        {
            if (_inMemory.ContainsKey(playerId))
            {
                _inMemory[playerId] = queue;
                return;
            }
            _client.Cache.Save(playerId, QueueName, Json.Serialize(queue));
        }
    }
}
