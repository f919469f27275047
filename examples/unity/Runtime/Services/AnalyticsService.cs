// Gaming Panel Unity example: the game's own analytics events (level_complete, tutorial_step, ...), shown on the
// panel's dashboard under "Game events".
//
// Track adds the event to a queue (per player) with its time and an event_id; the queue is kept in memory once read
// and written to disk in the background, not on every Track: at most PersistDelay (2 s) after the first event not yet
// on disk, or at once when PersistEveryEvents (50) wait, and at once after a flush takes events off the queue, at the
// end of every FlushAsync and on SaveNow (call it from OnApplicationPause(true) / OnApplicationQuit). A crash (not a
// pause or quit) may lose the events of that window: at most the last 2 seconds' or 50 events. FlushAsync sends the
// queue to POST analytics/events in batches of at most 100:
//   - 202/207 whose JSON body carries `accepted` (the panel's receipt): the batch is taken off the queue (with 207
//     the panel refused some events for good: sending them again would get the same answer, so they go too, and are
//     reported in Rejected);
//   - no answer, 429, 5xx, a session that could not be renewed, and any answer that is not the panel's (an empty
//     2xx, a captive portal's page, a proxy's HTML 400): the batch stays for the next flush; the event ids make an
//     event that did reach the panel count once (LastError says why). An answer with Retry-After (429, 503): no
//     flush of that player sends anything before that many seconds have passed; it returns 0 at once, LastError the
//     same error with RetryAfterSeconds the seconds left;
//   - 400 for the whole batch as the panel's problem document (JSON with a code): it can never be taken as it is;
//     it is dropped (and logged);
//   - 413 (the batch's body is too big): sent again in halves; a single event still too big is dropped.
// Events older than the panel takes (7 days) are dropped before sending, and the queue keeps at most MaxQueued
// events and MaxQueuedBytes (4 MB of JSON) (the oldest go first), so a device that is offline for weeks does not
// grow without bound.
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
        /// <summary>The most bytes (UTF-8 JSON of the events) kept while offline; past it the oldest are dropped.</summary>
        public const int MaxQueuedBytes = 4 * 1024 * 1024;
        /// <summary>An event not yet on disk is written at most this long after it was tracked (a crash may lose these).</summary>
        public static readonly TimeSpan PersistDelay = TimeSpan.FromSeconds(2);
        /// <summary>This many events not yet on disk are written at once, without waiting for PersistDelay.</summary>
        public const int PersistEveryEvents = 50;
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
        // Each player's queue, read from disk once and kept here (as cloud save keeps its state); forgotten by Cache.Clear.
        readonly Dictionary<string, Queue> _queues = new Dictionary<string, Queue>();
        // One disk write at a time; a write never replaces the file with an older snapshot.
        readonly object _writeLock = new object();
        long _snapshots;
        internal int DiskWrites; // queue files written (tests)
        // After an answer with Retry-After: no batch of that player goes before _quietUntil, and the error is answered
        // meanwhile. Timed by a monotonic clock, so a device clock set back or forward does not shorten the wait.
        static readonly System.Diagnostics.Stopwatch Monotonic = System.Diagnostics.Stopwatch.StartNew();
        internal Func<TimeSpan> Elapsed = () => Monotonic.Elapsed; // tests move it by hand
        ApiError _retryAfterError;
        string _retryAfterPlayer;
        TimeSpan _quietUntil;
        // Events tracked this run before the panel's clock was known (device time): corrected by Load once it is.
        readonly HashSet<string> _deviceTimed = new HashSet<string>();

        sealed class Queue
        {
            public readonly List<object> Events = new List<object>();
            public readonly List<int> Sizes = new List<int>(); // UTF-8 bytes of each event's JSON, as Events
            public long Bytes;
            // The file could be neither read nor moved aside: kept in memory this session, the file never written over.
            public bool MemoryOnly;
            public int Unsaved;              // events changed since the last snapshot written
            public bool Dirty;
            public bool WriteDue;            // WebGL (no threads): written by Track itself
            public Timer Timer;              // the write PersistDelay after the first unsaved change
            public long WrittenSnapshot;     // the newest snapshot on disk
            public DateTime AgeCheckedAt;

            public void Add(object item, int size) { Events.Add(item); Sizes.Add(size); Bytes += size; }

            public void RemoveWhere(Func<object, bool> drop)
            {
                int kept = 0;
                for (int index = 0; index < Events.Count; index++)
                {
                    if (drop(Events[index])) { Bytes -= Sizes[index]; continue; }
                    Events[kept] = Events[index];
                    Sizes[kept] = Sizes[index];
                    kept++;
                }
                Events.RemoveRange(kept, Events.Count - kept);
                Sizes.RemoveRange(kept, Sizes.Count - kept);
            }
        }

        public AnalyticsService(GamingPanelClient client)
        {
            _client = client;
            _client.Cache.Cleared += player =>
            {
                // Waits for a write under way, so none puts the file back after Clear deletes it.
                lock (_writeLock)
                lock (_queueLock)
                {
                    Queue queue;
                    if (_queues.TryGetValue(player, out queue) && queue.Timer != null) queue.Timer.Dispose();
                    _queues.Remove(player);
                }
            };
        }

        /// <summary>Events the panel refused for good in the last flush (207), with its reasons.</summary>
        public List<Dictionary<string, object>> Rejected { get; private set; } = new List<Dictionary<string, object>>();

        /// <summary>
        /// Why the last flush left events queued: no answer, 429, 5xx, a session that could not be renewed, an answer
        /// that is not the panel's (invalid_response), another player logged in meanwhile (not_logged_in); null when it
        /// sent all it could. After a 429 or 503 with Retry-After, a flush before that many seconds have passed sends
        /// nothing and returns 0 at once, with this error again and RetryAfterSeconds the seconds left.
        /// </summary>
        public ApiError LastError { get; private set; }

        /// <summary>
        /// Queues one event, to be sent by the next FlushAsync. `name` is lower-case letters, digits and `_`, starting
        /// with a letter (the panel's own facts, such as session_start or purchase_completed, are refused there).
        /// </summary>
        public void Track(string name, Dictionary<string, object> properties = null)
        {
            if (name == null || !EventName.IsMatch(name))
                throw new ArgumentException("An event name is a lower-case letter, then up to 63 lower-case letters, digits or '_'.", "name");
            string givenJson = Json.Serialize(properties ?? new Dictionary<string, object>());
            if (System.Text.Encoding.UTF8.GetByteCount(givenJson) > MaxPropertiesBytes)
                throw new ArgumentException("An event's properties are at most " + MaxPropertiesBytes + " bytes of JSON.", "properties");
            // A copy: the queue is kept in memory, and the caller may change its dictionary afterwards.
            object given = Json.Parse(givenJson);
            var analyticsEvent = new Dictionary<string, object>
            {
                { "event_id", Guid.NewGuid().ToString("N") },
                { "name", name },
                { "occurred_at", _client.Clock.UtcNow.ToString(TimeFormat, CultureInfo.InvariantCulture) },
                { "properties", given },
            };
            string playerId;
            lock (_queueLock)
            {
                if (!_client.Clock.Offset.HasValue) _deviceTimed.Add((string)analyticsEvent["event_id"]);
                playerId = _client.Auth.PlayerId;
                if (string.IsNullOrEmpty(playerId))
                {
                    _beforeLogin.Add(analyticsEvent);
                    return;
                }
                Queue queue = Load(playerId);
                queue.Add(analyticsEvent, SizeOf(analyticsEvent));
                Cap(queue);
                Changed(playerId, queue, 1);
                if (!queue.WriteDue) return;
                queue.WriteDue = false;
            }
            Write(playerId); // WebGL only (no threads): once per PersistEveryEvents Tracks
        }

        /// <summary>
        /// Writes every player's queue to disk now, on the calling thread (call it from OnApplicationPause(true) and
        /// OnApplicationQuit: otherwise the events of the last PersistDelay may be lost if the game is killed).
        /// </summary>
        public void SaveNow()
        {
            List<string> players;
            lock (_queueLock) players = new List<string>(_queues.Keys);
            foreach (string playerId in players) Write(playerId);
        }

        /// <summary>How many events wait to be sent.</summary>
        public int Pending
        {
            get
            {
                lock (_queueLock)
                {
                    string playerId = _client.Auth.PlayerId;
                    return _beforeLogin.Count + (string.IsNullOrEmpty(playerId) ? 0 : Load(playerId).Events.Count);
                }
            }
        }

        /// <summary>
        /// Sends the queued events (call it now and then, and when the game pauses); how many the panel took. Events
        /// left queued are sent by a later flush (LastError says why they stayed).
        /// </summary>
        public async Task<int> FlushAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            await _flushing.WaitAsync(cancellationToken);
            string playerId = _client.Auth.PlayerId;
            try
            {
                Rejected = new List<Dictionary<string, object>>();
                LastError = null;
                if (string.IsNullOrEmpty(playerId)) return 0;
                int queued;
                lock (_queueLock)
                {
                    Queue loaded = Load(playerId);
                    DropTooOld(playerId, loaded);
                    queued = loaded.Events.Count;
                }
                if (queued > 0 && _retryAfterError != null && _retryAfterPlayer == playerId)
                {
                    // The panel asked for Retry-After seconds of quiet: sent sooner, the batch would only be refused again.
                    TimeSpan left = _quietUntil - Elapsed();
                    if (left > TimeSpan.Zero)
                    {
                        ApiError asked = _retryAfterError;
                        LastError = new ApiError(asked.Status, asked.Code, asked.Title, asked.Detail, asked.Type,
                            (float)Math.Ceiling(left.TotalSeconds), asked.Problem);
                        return 0;
                    }
                    _retryAfterError = null;
                }
                int taken = 0;
                int batchSize = MaxBatch;
                while (true)
                {
                    List<object> batch;
                    lock (_queueLock)
                    {
                        List<object> queue = Load(playerId).Events;
                        batch = queue.GetRange(0, Math.Min(batchSize, queue.Count));
                    }
                    if (batch.Count == 0) return taken;
                    batch = NotAhead(batch);
                    // This player's events go with this player's session only: another login meanwhile stops the flush.
                    if (_client.Auth.PlayerId != playerId)
                    {
                        LastError = ApiError.PlayerChanged();
                        return taken;
                    }
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
                        if (!refused || error.IsTransient)
                        {
                            LastError = error; // kept for the next flush
                            if (error.RetryAfterSeconds > 0f)
                            {
                                _retryAfterError = error;
                                _retryAfterPlayer = playerId;
                                _quietUntil = Elapsed() + TimeSpan.FromSeconds(error.RetryAfterSeconds.Value);
                            }
                            return taken;
                        }
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
                        LastError = new ApiError(result.Status, ErrorCodes.InvalidResponse, "Invalid response",
                            "The answer to POST analytics/events is not the panel's; the batch is kept.");
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
                // What is tracked, settled or corrected by now is on disk when the flush ends (off the caller's thread).
#if UNITY_WEBGL && !UNITY_EDITOR
                if (!string.IsNullOrEmpty(playerId)) Write(playerId); // no threads on WebGL
#else
                if (!string.IsNullOrEmpty(playerId)) await Task.Run(() => Write(playerId));
#endif
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
                Queue queue = Load(playerId);
                int before = queue.Events.Count;
                queue.RemoveWhere(item => ids.Contains(Json.GetString(item as Dictionary<string, object>, "event_id")));
                // Settled events go from the disk at once (in the background), so a restart does not send them again.
                if (queue.Events.Count != before) Changed(playerId, queue, PersistEveryEvents);
            }
        }

        static int SizeOf(object analyticsEvent)
        {
            return System.Text.Encoding.UTF8.GetByteCount(Json.Serialize(analyticsEvent)) + 1; // and its comma
        }

        /// <summary>At most MaxQueued events and MaxQueuedBytes: the oldest go first.</summary>
        static void Cap(Queue queue)
        {
            int drop = Math.Max(0, queue.Events.Count - MaxQueued);
            long bytes = queue.Bytes;
            for (int index = 0; index < drop; index++) bytes -= queue.Sizes[index];
            while (bytes > MaxQueuedBytes && drop < queue.Events.Count - 1) bytes -= queue.Sizes[drop++];
            if (drop == 0) return;
            for (int index = 0; index < drop; index++) queue.Bytes -= queue.Sizes[index];
            queue.Events.RemoveRange(0, drop);
            queue.Sizes.RemoveRange(0, drop);
        }

        /// <summary>Drops events older than the panel takes (on reading the file, at each flush, and at most once a minute else).</summary>
        bool DropTooOld(string playerId, Queue queue)
        {
            queue.AgeCheckedAt = DateTime.UtcNow;
            DateTime oldest = _client.Clock.UtcNow - MaxAge;
            int before = queue.Events.Count;
            queue.RemoveWhere(item =>
            {
                DateTime? at = Json.GetDateTime(item as Dictionary<string, object>, "occurred_at");
                return !at.HasValue || at.Value < oldest;
            });
            return queue.Events.Count != before;
        }

        /// <summary>The player's queue (read from disk the first time), with events tracked before login added.</summary>
        Queue Load(string playerId)
        {
            Queue queue;
            bool changed = false;
            if (!_queues.TryGetValue(playerId, out queue))
            {
                queue = new Queue();
                // A queue file that cannot be read is never written over by the next Track (its events would be
                // lost): it is moved aside, or, when it cannot be moved, the queue is kept in memory this session.
                string body;
                switch (_client.Cache.LoadState(playerId, QueueName, text => Json.Parse(text) is List<object>, "Analytics", out body))
                {
                    case LocalCache.StateRead.Read:
                        foreach (object item in (List<object>)Json.Parse(body)) queue.Add(item, SizeOf(item));
                        break;
                    case LocalCache.StateRead.MemoryOnly:
                        queue.MemoryOnly = true;
                        break;
                }
                _queues[playerId] = queue;
                changed = DropTooOld(playerId, queue);
            }
            else if (DateTime.UtcNow - queue.AgeCheckedAt > TimeSpan.FromMinutes(1))
            {
                changed = DropTooOld(playerId, queue);
            }
            int moved = _beforeLogin.Count;
            foreach (Dictionary<string, object> item in _beforeLogin) queue.Add(item, SizeOf(item));
            _beforeLogin.Clear();
            TimeSpan? offset = _client.Clock.Offset;
            if (offset.HasValue && _deviceTimed.Count > 0)
            {
                // Tracked this run before the offset was known: the device's time then, corrected now (a new
                // dictionary: a snapshot being written in the background keeps the one it holds).
                for (int index = 0; index < queue.Events.Count; index++)
                {
                    var analyticsEvent = queue.Events[index] as Dictionary<string, object>;
                    string id = Json.GetString(analyticsEvent, "event_id");
                    DateTime? at = Json.GetDateTime(analyticsEvent, "occurred_at");
                    if (id == null || !at.HasValue || !_deviceTimed.Remove(id)) continue;
                    var corrected = new Dictionary<string, object>(analyticsEvent);
                    corrected["occurred_at"] = (at.Value + offset.Value).ToString(TimeFormat, CultureInfo.InvariantCulture);
                    queue.Events[index] = corrected;
                    changed = true;
                }
            }
            int count = queue.Events.Count;
            Cap(queue);
            if (changed || moved > 0 || queue.Events.Count != count) Changed(playerId, queue, moved);
            return queue;
        }

        /// <summary>
        /// Marks the queue as changed (under _queueLock): written in the background PersistDelay later, or at once
        /// when PersistEveryEvents changes wait. Never on the caller's thread.
        /// </summary>
        void Changed(string playerId, Queue queue, int events)
        {
            if (queue.MemoryOnly) return;
            queue.Dirty = true;
            queue.Unsaved += events;
#if UNITY_WEBGL && !UNITY_EDITOR
            // No threads on WebGL: written by the next Track once PersistEveryEvents wait, by FlushAsync and by SaveNow.
            if (queue.Unsaved >= PersistEveryEvents) queue.WriteDue = true;
#else
            if (queue.Unsaved >= PersistEveryEvents)
            {
                queue.Unsaved = 0;
                if (queue.Timer != null) queue.Timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
                else ThreadPool.QueueUserWorkItem(_ => Write(playerId));
            }
            else if (queue.Timer == null)
            {
                queue.Timer = new Timer(_ => Write(playerId), null, PersistDelay, Timeout.InfiniteTimeSpan);
            }
#endif
        }

        /// <summary>Writes the player's queue as it is now, if it changed since the last write (any thread).</summary>
        void Write(string playerId)
        {
            lock (_writeLock)
            {
                List<object> snapshot;
                long number;
                Queue queue;
                lock (_queueLock)
                {
                    if (!_queues.TryGetValue(playerId, out queue) || queue.MemoryOnly) return;
                    if (queue.Timer != null) { queue.Timer.Dispose(); queue.Timer = null; }
                    if (!queue.Dirty) return;
                    queue.Dirty = false;
                    queue.Unsaved = 0;
                    queue.WriteDue = false;
                    // The events themselves are never changed once queued (a correction replaces one), so a copy of
                    // the list is a snapshot that can be written outside the lock.
                    snapshot = new List<object>(queue.Events);
                    number = ++_snapshots;
                }
                if (number <= queue.WrittenSnapshot) return;
                string text = Json.Serialize(snapshot);
                lock (_queueLock)
                {
                    Queue current;
                    // Cleared meanwhile (Cache.Clear): the file is not written again.
                    if (!_queues.TryGetValue(playerId, out current) || current != queue) return;
                }
                if (_client.Cache.Save(playerId, QueueName, text))
                {
                    queue.WrittenSnapshot = number;
                    Interlocked.Increment(ref DiskWrites);
                }
                else lock (_queueLock) queue.Dirty = true; // tried again with the next change, flush or SaveNow
            }
        }
    }
}
