// Gaming Panel Unity example: cloud save, offline-first.
//
// The device keeps, per player and key, the last synced document (value and version) and, when the player saved
// while offline or before the sync ran, one pending write per key: the newest value, the version it was made from
// and an Idempotency-Key. This state is kept in memory per player and written through to disk (a failed disk write
// is logged; the writes still sync this session). SyncAsync sends the pending writes with If-Match (or
// If-None-Match: * for a new key), every request with the session of the player whose writes they are:
//   - 200/201: the answer becomes the synced copy;
//   - 412 precondition_failed: another device wrote first. Nothing is overwritten: the conflict, with both copies
//     (the local value and the server's current document), goes to the game (Conflicts, ConflictDetected) and stays
//     queued until the game resolves it (keep local, keep the server's, or a merged value);
//   - 400, 403 save_key_not_writable, 413, 422 as the panel's own problem document (with a code): the write can never
//     succeed as it is; it is dropped and reported (Rejected) with the value it carried, so the game can keep or show it;
//   - a delete's 404 save_not_found: the key is gone there too (agreed, or a conflict with a copy the device holds);
//   - 401 (the session is over and could not be renewed), an answer that ends the session (ApiError.EndsSession,
//     such as 403 player_banned), any other 403 of the panel's (about the session or the credential, not the write:
//     permission_missing, wrong_credential_kind...), or another player (or nobody) logged in by the time of a
//     request or its retry: the write stays queued for its player, the sync stops and reports NeedsLogin with the
//     error; the next sync after that player logs in again sends it;
//   - anything else (no answer, 408, 429, 5xx, a 404 other than a delete's save_not_found, such as not_found for a
//     wrong base URL, and any answer that is not the panel's: a captive portal's HTML 200, a proxy's 404 or 405): it
//     stays queued with its Idempotency-Key for the next sync, which makes a write that did reach the server count once.
// A write that went out and got no answer may be on the server. When the key is saved again meanwhile, that write
// is kept as it went, and the next sync sends it again first (same body, Idempotency-Key and If-Match: the panel
// answers a key it took with its first answer, for CLOUDSAVE_RECEIPT_DAYS) before the newer value, which then goes
// on the version it made instead of meeting the device's own write as a conflict.
// One sync runs at a time (a SyncAsync called meanwhile waits for the running one, then sends what is left), and an
// answer never replaces the synced copy with a lower version than the one the device holds.
// See docs/guide/offline.md.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine;

namespace GamingPanel
{
    /// <summary>One document as the server stored it.</summary>
    public sealed class SaveDocument
    {
        public string Key;
        public long Version;
        /// <summary>The value as JSON text (Json.Parse it, or use Value).</summary>
        public string ValueJson;
        public DateTime? UpdatedAtUtc;

        public object Value { get { return ValueJson == null ? null : Json.Parse(ValueJson); } }

        public static SaveDocument FromJson(Dictionary<string, object> json)
        {
            if (json == null) return null;
            object value;
            json.TryGetValue("value", out value);
            return new SaveDocument
            {
                Key = Json.GetString(json, "key"),
                Version = Json.GetLong(json, "version"),
                ValueJson = Json.Serialize(value),
                UpdatedAtUtc = Json.GetDateTime(json, "updated_at"),
            };
        }
    }

    /// <summary>A queued write the server refused because another device wrote first: both copies.</summary>
    public sealed class SaveConflict
    {
        public string Key;
        /// <summary>What this device wanted to save (JSON text).</summary>
        public string LocalValueJson;
        /// <summary>What the server holds now; null when the document was deleted there.</summary>
        public SaveDocument Server;
    }

    public enum ConflictResolution { KeepLocal, KeepServer, UseMerged }

    public sealed class SyncReport
    {
        /// <summary>The documents written, including an earlier write that went again to learn its outcome.</summary>
        public readonly List<SaveDocument> Written = new List<SaveDocument>();
        public readonly List<SaveConflict> Conflicts = new List<SaveConflict>();
        /// <summary>Writes dropped because the server can never accept them (with the reason).</summary>
        public readonly List<SaveRejection> Rejected = new List<SaveRejection>();
        /// <summary>
        /// True when the panel could not be reached (or what answered was not the panel: a captive portal, a proxy):
        /// the remaining writes stay queued, each with its Idempotency-Key.
        /// </summary>
        public bool Offline;
        /// <summary>
        /// The session is over (401 after a renewal, or an answer that ends it, such as 403 player_banned), the panel
        /// refused the session or credential (any 403 but save_key_not_writable: permission_missing,
        /// wrong_credential_kind...), or another player (or nobody) is logged in now: the writes stay queued for this
        /// sync's player; log them in again (Error says why).
        /// </summary>
        public bool NeedsLogin;
        public int StillQueued;
        /// <summary>
        /// The failure that stopped the sync (Offline, NeedsLogin), as SendAuthorizedAsync gave it after its own retries:
        /// no answer, 408, 429, 5xx, invalid_response (an answer that is not the panel's), the refusal behind NeedsLogin,
        /// or not_logged_in (another player, or nobody, is logged in now); null when nothing stopped it. After a 429 or
        /// 503 with Retry-After, RetryAfterSeconds: sync again no sooner (the automatic retries wait out one of up to
        /// 30 s and hand a longer one back here).
        /// </summary>
        public ApiError Error;
    }

    /// <summary>A queued write the panel refused for good (its problem document with 400, 403 save_key_not_writable, 413, 422): dropped from the queue, with the value it carried.</summary>
    public sealed class SaveRejection
    {
        public string Key;
        /// <summary>The value that was not written (JSON); null for a delete.</summary>
        public string ValueJson;
        public bool Deleted;
        public ApiError Error;
    }

    public sealed class CloudSaveService
    {
        const string StateCache = "cloud_saves";
        readonly GamingPanelClient _client;
        readonly object _lock = new object();
        readonly SemaphoreSlim _syncing = new SemaphoreSlim(1, 1);
        // Per player, the state: read from disk once, then kept here and written through (Store). What the game
        // saved stays here when the disk write fails, so it is read back and synced this session all the same.
        readonly Dictionary<string, State> _states = new Dictionary<string, State>();

        public CloudSaveService(GamingPanelClient client)
        {
            _client = client;
            _client.Cache.Cleared += player =>
            {
                lock (_lock)
                {
                    _states.Remove(player);
                    var slots = new List<string>(_readVersions.Keys);
                    foreach (string slot in slots) if (slot.StartsWith(player + "\n", StringComparison.Ordinal)) _readVersions.Remove(slot);
                }
            };
        }

        /// <summary>Raised for each conflict a sync finds (also listed in SyncReport.Conflicts and Conflicts).</summary>
        public event Action<SaveConflict> ConflictDetected;

        /// <summary>
        /// The local value of a key: the pending write when there is one, else the synced copy, whose version the next
        /// Save of the key builds on (whatever a RefreshAsync brings meanwhile). When there is none, the next Save creates
        /// the key (If-None-Match: *): a conflict if a refresh brought another device's copy.
        /// </summary>
        public bool TryGet(string key, out string valueJson)
        {
            lock (_lock)
            {
                State state = Load();
                Pending pending;
                if (state.Pending.TryGetValue(key, out pending) && !pending.Deleted)
                {
                    valueJson = pending.ValueJson;
                    return true;
                }
                SaveDocument synced;
                if (!state.Pending.ContainsKey(key) && state.Synced.TryGetValue(key, out synced))
                {
                    valueJson = synced.ValueJson;
                    _readVersions[ReadSlot(key)] = synced.Version; // what the game's next save builds on
                    return true;
                }
                // The game saw no document: a save creates one (If-None-Match: *), whatever a refresh brings meanwhile.
                _readVersions[ReadSlot(key)] = NoDocument;
                valueJson = null;
                return false;
            }
        }

        /// <summary>Saves locally at once and queues the write; SyncAsync sends it.</summary>
        public void Save(string key, object value)
        {
            CheckKey(key);
            if (value == null) throw new ArgumentNullException("value", "Use Delete to remove a key.");
            Queue(key, Json.Serialize(value), false);
        }

        /// <summary>Deletes locally and queues the delete (only of a key the server has).</summary>
        public void Delete(string key)
        {
            CheckKey(key);
            Queue(key, null, true);
        }

        /// <summary>
        /// The panel's save keys: 1 to 64 letters, digits, '_', '.' or '-', not "." or "..". Refused here, when the
        /// game saves: queued, a key the panel cannot take would be refused at sync (or, like "a/b", never reach the
        /// save route and keep the whole queue waiting behind it).
        /// </summary>
        public static bool IsValidKey(string key)
        {
            if (string.IsNullOrEmpty(key) || key.Length > 64 || key == "." || key == "..") return false;
            foreach (char c in key)
            {
                bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
                if (!allowed) return false;
            }
            return true;
        }

        static void CheckKey(string key)
        {
            if (!IsValidKey(key))
                throw new ArgumentException("A save key is 1 to 64 letters, digits, '_', '.' or '-', not '.' or '..'.", "key");
        }

        /// <summary>Keys whose queued write met another device's write and waits for the game's decision.</summary>
        public List<SaveConflict> Conflicts
        {
            get
            {
                lock (_lock)
                {
                    var found = new List<SaveConflict>();
                    foreach (KeyValuePair<string, Pending> entry in Load().Pending)
                        if (entry.Value.Conflict) found.Add(ConflictOf(entry.Key, entry.Value));
                    return found;
                }
            }
        }

        public int QueuedCount { get { lock (_lock) return Load().Pending.Count; } }

        /// <summary>
        /// The game's answer to a conflict. KeepLocal writes the local value over the server's version, KeepServer drops
        /// the local write and keeps the server's copy, UseMerged writes `merged` over the server's version. The write
        /// goes with the next SyncAsync.
        /// </summary>
        public void Resolve(string key, ConflictResolution resolution, object merged = null)
        {
            string player = _client.Auth.PlayerId;
            lock (_lock)
            {
                State state = Load(player);
                Pending pending;
                if (!state.Pending.TryGetValue(key, out pending) || !pending.Conflict)
                    throw new InvalidOperationException("No conflict on " + key + ".");
                SaveDocument server = pending.Server;
                // The game decided with the server's copy in hand: what it saves next builds on that.
                _readVersions[ReadSlot(key, player)] = server != null ? server.Version : NoDocument;
                if (resolution == ConflictResolution.KeepServer)
                {
                    state.Pending.Remove(key);
                    if (server != null) state.Synced[key] = server; else state.Synced.Remove(key);
                }
                else
                {
                    if (resolution == ConflictResolution.UseMerged)
                    {
                        if (merged == null) throw new ArgumentNullException("merged");
                        pending.ValueJson = Json.Serialize(merged);
                        pending.Deleted = false;
                    }
                    // Against the server's version now: the next write applies unless yet another device wrote.
                    pending.BaseVersion = server != null ? (long?)server.Version : null;
                    pending.IdempotencyKey = Guid.NewGuid().ToString();
                    pending.Sent = false;
                    pending.Conflict = false;
                    pending.Server = null;
                    if (server != null) state.Synced[key] = server; else state.Synced.Remove(key);
                    if (pending.Deleted && server == null) state.Pending.Remove(key); // both sides deleted it
                }
                Store(state, player);
            }
        }

        /// <summary>
        /// GET player/saves: replaces the synced copies (queued writes stay queued). When the panel cannot be reached
        /// (no answer, 429, 5xx) or a 2xx is not the list of saves (an empty body, a captive portal's page, an array
        /// with an item that is not a document, see DocumentsOfList: invalid_response), the synced copies as they are, FromCache with the error, and FetchedAtUtc the time the
        /// last list was read from the panel (DateTime.MinValue when none was read yet). The answer is the player's who
        /// was logged in when it was asked for: when another player (or nobody) is logged in by the time it arrives, it
        /// is not kept, and 401 not_logged_in is thrown.
        /// </summary>
        public async Task<Cached<List<SaveDocument>>> RefreshAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            string player = _client.Auth.PlayerId;
            long settledBefore;
            lock (_lock) settledBefore = SettledWrites(player);
            ApiError failure;
            try
            {
                HttpResult response = await _client.SendAuthorizedAsync("GET", "player/saves", null, null, true, player, cancellationToken);
                List<SaveDocument> documents = DocumentsOfList(ListOf(response));
                if (documents != null)
                {
                    DateTime fetchedAt = DateTime.UtcNow;
                    lock (_lock)
                    {
                        if (_client.Auth.PlayerId != player) throw ApiError.PlayerChanged(); // never under another player
                        State state = Load(player);
                        if (SettledWrites(player) != settledBefore)
                        {
                            // A write of this device settled while the list was on its way: the list predates it and
                            // would put an older version back (the next save would then conflict with the device's own
                            // write). The local copies stand; refresh again for other devices' saves. They were not
                            // read now: FetchedAtUtc stays the time of the last list applied, as the Unreal kit's.
                            var local = new List<SaveDocument>();
                            foreach (SaveDocument document in state.Synced.Values) local.Add(Copy(document));
                            return new Cached<List<SaveDocument>> { Value = local, FetchedAtUtc = state.RefreshedAtUtc ?? DateTime.MinValue };
                        }
                        state.Synced.Clear();
                        foreach (SaveDocument document in documents) state.Synced[document.Key] = Copy(document);
                        state.RefreshedAtUtc = fetchedAt;
                        Store(state, player);
                    }
                    return new Cached<List<SaveDocument>> { Value = documents, FetchedAtUtc = fetchedAt };
                }
                // A 2xx that is not the list (an empty body, a captive portal's page, an array with an item that is not a
                // document) says nothing about the saves: the synced copies stay as they are and are served as the cache,
                // as when offline.
                failure = new ApiError(response.Status, ErrorCodes.InvalidResponse, "Invalid response",
                    "The answer to GET player/saves is not the list of saves; the synced copies are kept.");
            }
            catch (ApiError error)
            {
                if (!error.IsTransient) throw;
                failure = error;
            }
            lock (_lock)
            {
                if (_client.Auth.PlayerId != player) throw ApiError.PlayerChanged();
                State state = Load(player);
                var documents = new List<SaveDocument>();
                foreach (SaveDocument document in state.Synced.Values) documents.Add(Copy(document));
                return new Cached<List<SaveDocument>>
                {
                    Value = documents, FromCache = true, Error = failure,
                    FetchedAtUtc = state.RefreshedAtUtc ?? DateTime.MinValue,
                };
            }
        }

        /// <summary>The answer's JSON array; null when the body is empty, not JSON or not an array.</summary>
        static List<object> ListOf(HttpResult response)
        {
            try { return response.Json as List<object>; }
            catch (ApiError) { return null; } // not JSON
        }

        /// <summary>
        /// The documents of a GET player/saves answer, or null when it is not the list of saves: not an array, or an
        /// item that is not a document as the panel sends one (an object with a `key` that is a save key, listed once,
        /// a `version` that is a whole number of at least 1, and a `value` that is not null). One such item makes the
        /// whole answer not the panel's list: read without it, the list would take that key's synced copy away. The
        /// Unreal kit reads a list the same way (FGamingPanelSaveQueue::DocumentsOfList).
        /// </summary>
        internal static List<SaveDocument> DocumentsOfList(List<object> items)
        {
            if (items == null) return null;
            var documents = new List<SaveDocument>();
            var keys = new HashSet<string>();
            foreach (object item in items)
            {
                var json = item as Dictionary<string, object>;
                if (json == null) return null;
                object key, version, value;
                if (!json.TryGetValue("key", out key) || !(key is string) || !IsValidKey((string)key) || !keys.Add((string)key)) return null;
                if (!json.TryGetValue("version", out version) || !IsVersion(version)) return null;
                if (!json.TryGetValue("value", out value) || value == null) return null;
                documents.Add(SaveDocument.FromJson(json));
            }
            return documents;
        }

        /// <summary>A whole number of at least 1 (as JSON has it: 3, or 3.0), at most 2^53.</summary>
        static bool IsVersion(object version)
        {
            if (version is long) return (long)version >= 1 && (long)version <= MaxVersion;
            if (!(version is double)) return false;
            double number = (double)version;
            return number >= 1 && number <= MaxVersion && Math.Floor(number) == number;
        }

        const long MaxVersion = 9007199254740992; // 2^53: the largest whole number every JSON reader keeps exactly

        /// <summary>
        /// Sends every queued write that is not waiting on a conflict. Never overwrites another device's write. One sync
        /// at a time: a call made while another sync runs waits for it to end, then sends what is still queued.
        /// </summary>
        public async Task<SyncReport> SyncAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            // Two syncs at once would send the same queued write twice and could each settle it with their own answer,
            // a late one after the newer; one at a time, the second sends what the first left queued.
            await _syncing.WaitAsync(cancellationToken);
            try
            {
                return await SyncQueuedAsync(cancellationToken);
            }
            finally
            {
                _syncing.Release();
            }
        }

        async Task<SyncReport> SyncQueuedAsync(CancellationToken cancellationToken)
        {
            var report = new SyncReport();
            // The sync is one player's: it reads and writes that player's state whatever happens meanwhile, and
            // sends every request (retries and the one after a renewal included) with that player's session only;
            // it stops, the writes kept for that player, when another player (or nobody) is logged in.
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player))
            {
                report.NeedsLogin = true;
                report.Error = ApiError.PlayerChanged();
                return report;
            }
            List<string> keys;
            lock (_lock) keys = new List<string>(Load(player).Pending.Keys);
            foreach (string key in keys)
            {
                while (true)
                {
                    Pending sending;
                    bool earlier;
                    lock (_lock)
                    {
                        State state = Load(player);
                        Pending now;
                        if (!state.Pending.TryGetValue(key, out now)) break;
                        if (now.Conflict)
                        {
                            report.Conflicts.Add(ConflictOf(key, now)); // still waiting for the game
                            break;
                        }
                        if (report.Offline || report.NeedsLogin) break;
                        if (_client.Auth.PlayerId != player)
                        {
                            report.NeedsLogin = true; // another player now: this one's writes wait for their next session
                            report.Error = ApiError.PlayerChanged();
                            break;
                        }
                        // A write that went out before without an answer goes first, exactly as it went.
                        earlier = now.Unconfirmed != null;
                        sending = (earlier ? now.Unconfirmed : now).Copy(); // Save may change the queue meanwhile
                        if (!earlier && !now.Sent)
                        {
                            now.Sent = true; // from here on it may reach the server without its answer reaching us
                            Store(state, player);
                        }
                    }
                    bool settled = await SendAsync(player, key, sending, report, cancellationToken);
                    if (!earlier || !settled) break;
                }
            }
            lock (_lock) report.StillQueued = Load(player).Pending.Count;
            return report;
        }

        /// <summary>Sends one write; true when the panel settled it (written, deleted or refused for good).</summary>
        async Task<bool> SendAsync(string player, string key, Pending pending, SyncReport report, CancellationToken cancellationToken)
        {
            var headers = new Dictionary<string, string> { { "Idempotency-Key", pending.IdempotencyKey } };
            if (pending.BaseVersion.HasValue) headers["If-Match"] = "\"" + pending.BaseVersion.Value + "\"";
            else headers["If-None-Match"] = "*";
            string path = "player/saves/" + Uri.EscapeDataString(key);
            try
            {
                if (pending.Deleted)
                {
                    HttpResult deleted = await _client.SendAuthorizedAsync("DELETE", path, null, headers, true, player, cancellationToken);
                    if (deleted.Status != 204) throw NotThePanels(deleted.Status); // the panel answers a delete 204
                    Settle(player, key, pending, null);
                    return true;
                }
                var body = new Dictionary<string, object> { { "value", Json.Parse(pending.ValueJson) } };
                HttpResult response = await _client.SendAuthorizedAsync("PUT", path, body, headers, true, player, cancellationToken);
                SaveDocument written = SaveDocument.FromJson(response.JsonObject);
                if (written.Key != key || written.Version <= 0) throw NotThePanels(response.Status);
                Settle(player, key, pending, written);
                report.Written.Add(Copy(written));
                return true;
            }
            catch (ApiError error)
            {
                // Only the panel's own problem documents decide a write's fate.
                bool panel = error.IsProblemDocument;
                if (error.Status == 401 || error.EndsSession || (panel && error.Status == 403 && error.Code != ErrorCodes.SaveKeyNotWritable))
                {
                    // The session is over, is another player's now, or the panel ended it (a ban ends too), or the
                    // panel's 403 is about the session or the credential (permission_missing, wrong_credential_kind...),
                    // not about this write: the player's progress stays queued for their next session.
                    report.NeedsLogin = true;
                    report.Error = error;
                    return false;
                }
                // A delete's 404 means "gone there" only as the panel's save_not_found; another 404 (not_found: an
                // unknown endpoint, a wrong base URL or prefix) says nothing about the document and keeps the delete.
                if (panel && (error.Status == 412 || (pending.Deleted && error.Status == 404 && error.Code == ErrorCodes.SaveNotFound)))
                {
                    SaveDocument current = SaveDocument.FromJson(Json.GetObject(error.Problem, "current"));
                    SaveConflict conflict = MarkConflict(player, key, pending, current);
                    if (conflict == null) return false; // nothing left to decide (the key is gone on both sides)
                    report.Conflicts.Add(conflict);
                    Action<SaveConflict> handler = ConflictDetected;
                    if (handler != null) handler(conflict);
                    return false;
                }
                if (!panel || !(error.Status == 400 || error.Status == 403 || error.Status == 413 || error.Status == 422))
                {
                    // No answer, 408, 429, 5xx, a 404 other than a delete's save_not_found, or not the panel's answer
                    // (a captive portal's HTML 200, a proxy's 404 or 405): the write may yet go, or may have gone. It
                    // stays queued with its Idempotency-Key. The error (a 429's or 503's Retry-After with it) tells the
                    // game when to sync again.
                    report.Offline = true;
                    report.Error = error;
                    return false;
                }
                // 400, 403 save_key_not_writable, 413, 422 from the panel: this write can never succeed as it is. Drop
                // it, keep the synced copy, and hand its value to the game with the reason.
                lock (_lock)
                {
                    State state = Load(player);
                    Pending now;
                    if (state.Pending.TryGetValue(key, out now))
                    {
                        if (now.IdempotencyKey == pending.IdempotencyKey) state.Pending.Remove(key);
                        else if (IsUnconfirmed(now, pending)) now.Unconfirmed = null; // the newer value still goes
                    }
                    Store(state, player);
                }
                report.Rejected.Add(new SaveRejection
                {
                    Key = key, ValueJson = pending.Deleted ? null : pending.ValueJson, Deleted = pending.Deleted, Error = error,
                });
                return true;
            }
        }

        /// <summary>A 2xx that is not the panel's answer to a write (a captive portal's page, say): kept like no answer.</summary>
        static ApiError NotThePanels(int status)
        {
            return new ApiError(status, ErrorCodes.InvalidResponse, "Invalid response",
                "The answer to a cloud-save write is not the panel's; the write stays queued.");
        }

        // Per player and key, the version of the synced copy the game last read (TryGet) or wrote: a new save
        // builds on it. NoDocument when what the game read (or the device last wrote) was no document: a save then
        // creates the key (If-None-Match: *), so a copy another device wrote, brought in by a refresh since, is a 412
        // conflict and not overwritten. Kept in memory: after a restart the game reads again before it saves.
        readonly Dictionary<string, long> _readVersions = new Dictionary<string, long>();
        const long NoDocument = 0; // versions start at 1
        // Per player, how many writes have settled (been answered) this session: a refresh asked before one of them
        // is not kept (RefreshAsync).
        readonly Dictionary<string, long> _settledWrites = new Dictionary<string, long>();

        long SettledWrites(string player)
        {
            long count;
            return player != null && _settledWrites.TryGetValue(player, out count) ? count : 0;
        }

        string ReadSlot(string key, string player = null)
        {
            return (player ?? _client.Auth.PlayerId ?? "") + "\n" + key;
        }

        void Queue(string key, string valueJson, bool deleted)
        {
            // Saves are kept per player: with nobody logged in there is no one to keep them for, and a save written
            // nowhere would be lost without a word.
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player))
                throw new InvalidOperationException("No player is logged in: log in (once, online) before saving to the cloud.");
            lock (_lock)
            {
                State state = Load(player);
                Pending pending;
                if (!state.Pending.TryGetValue(key, out pending))
                {
                    SaveDocument synced;
                    long readVersion;
                    bool read = _readVersions.TryGetValue(ReadSlot(key, player), out readVersion);
                    bool readNone = read && readVersion == NoDocument;
                    if (deleted && !state.Synced.ContainsKey(key) && (!read || readNone)) return; // never synced: nothing to delete
                    // Built on the version the game last read (TryGet), not on whatever a refresh has brought
                    // since: a document another device wrote after that read makes this write a conflict. The game
                    // read no document: a create (If-None-Match: *), which meets such a document as a conflict too.
                    pending = new Pending
                    {
                        BaseVersion = readNone ? null
                            : read ? (long?)readVersion
                            : state.Synced.TryGetValue(key, out synced) ? (long?)synced.Version : null,
                    };
                    state.Pending[key] = pending;
                }
                else if (pending.Sent && pending.Unconfirmed == null)
                {
                    // That write went out and no answer came: it may be on the server. It is kept as it went, for
                    // the next sync to send again first and learn its outcome (and the version it made).
                    pending.Unconfirmed = pending.Copy();
                }
                // The newest value per key, from the same base version; a new value gets a new Idempotency-Key.
                pending.ValueJson = valueJson;
                pending.Deleted = deleted;
                pending.IdempotencyKey = Guid.NewGuid().ToString();
                pending.Sent = false;
                Store(state, player);
            }
        }

        void Settle(string player, string key, Pending sent, SaveDocument written)
        {
            lock (_lock)
            {
                _settledWrites[player] = SettledWrites(player) + 1;
                State state = Load(player);
                Pending now;
                bool same = state.Pending.TryGetValue(key, out now) && now.IdempotencyKey == sent.IdempotencyKey;
                // An answer older than the copy the device holds (a write's late answer, after a newer write of the
                // key settled) never puts the lower version back: the next save would be a conflict with the device's
                // own write (412).
                SaveDocument held;
                bool older = written != null && state.Synced.TryGetValue(key, out held) && held != null && held.Version > written.Version;
                if (!older)
                {
                    if (written != null) state.Synced[key] = written; else state.Synced.Remove(key);
                    // The device's value is this one (after its delete, none: a save creates the key again).
                    _readVersions[ReadSlot(key, player)] = written != null ? written.Version : NoDocument;
                }
                if (same) state.Pending.Remove(key);
                else if (now != null)
                {
                    if (!older) now.BaseVersion = written != null ? (long?)written.Version : null; // saved again meanwhile
                    if (IsUnconfirmed(now, sent)) now.Unconfirmed = null; // its outcome is known now
                }
                Store(state, player);
            }
        }

        SaveConflict MarkConflict(string player, string key, Pending sent, SaveDocument current)
        {
            lock (_lock)
            {
                State state = Load(player);
                Pending now;
                if (!state.Pending.TryGetValue(key, out now)) return null;
                // Refused, so not written: neither the sent write nor an earlier one is waiting for its outcome.
                if (IsUnconfirmed(now, sent)) now.Unconfirmed = null;
                if (now.IdempotencyKey == sent.IdempotencyKey) now.Sent = false;
                if (now.Deleted && current == null)
                {
                    state.Pending.Remove(key); // deleted here and gone there: agreed
                    state.Synced.Remove(key);
                    Store(state, player);
                    return null;
                }
                now.Conflict = true;
                now.Server = current;
                Store(state, player);
                return ConflictOf(key, now);
            }
        }

        static SaveConflict ConflictOf(string key, Pending pending)
        {
            return new SaveConflict { Key = key, LocalValueJson = pending.Deleted ? null : pending.ValueJson, Server = Copy(pending.Server) };
        }

        /// <summary>`sent` is the earlier write of `now`'s key that went out without an answer.</summary>
        static bool IsUnconfirmed(Pending now, Pending sent)
        {
            return now.Unconfirmed != null && now.Unconfirmed.IdempotencyKey == sent.IdempotencyKey;
        }

        /// <summary>What leaves the state (or comes into it) is a copy: the game may change the documents it gets.</summary>
        static SaveDocument Copy(SaveDocument document)
        {
            return document == null ? null : new SaveDocument
            {
                Key = document.Key, Version = document.Version, ValueJson = document.ValueJson, UpdatedAtUtc = document.UpdatedAtUtc,
            };
        }

        // ------------------------------------------------------------------------------------------ local state

        sealed class Pending
        {
            public string ValueJson;
            public bool Deleted;
            public long? BaseVersion;
            public string IdempotencyKey;
            /// <summary>This write (under this Idempotency-Key) went out: it may be on the server though no answer said so.</summary>
            public bool Sent;
            /// <summary>An earlier write of the key that went out without an answer, as it went: sent again first.</summary>
            public Pending Unconfirmed;
            public bool Conflict;
            public SaveDocument Server;

            public Pending Copy() { return (Pending)MemberwiseClone(); }
        }

        sealed class State
        {
            public readonly Dictionary<string, SaveDocument> Synced = new Dictionary<string, SaveDocument>();
            public readonly Dictionary<string, Pending> Pending = new Dictionary<string, Pending>();
            /// <summary>The file on disk could be neither read nor moved aside: kept in memory only this session.</summary>
            public bool MemoryOnly;
            /// <summary>When the synced copies were last read from the panel (GET player/saves); null when never.</summary>
            public DateTime? RefreshedAtUtc;
        }

        /// <summary>The player's state (the logged-in player's by default): from memory, read from disk the first time.</summary>
        State Load(string playerId = null)
        {
            string player = playerId ?? _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player)) return new State();
            State state;
            if (_states.TryGetValue(player, out state)) return state;
            state = new State();
            string body;
            // A copy that cannot be read is never written over: moved aside, or kept in memory only (LocalCache.LoadState).
            switch (_client.Cache.LoadState(player, StateCache, text => Json.ParseObject(text) != null, "Cloud save", out body))
            {
                case LocalCache.StateRead.Missing:
                    return state; // not kept, so the next call reads again, until a Store keeps it
                case LocalCache.StateRead.MovedAside:
                    _states[player] = state;
                    return state;
                case LocalCache.StateRead.MemoryOnly:
                    state.MemoryOnly = true;
                    _states[player] = state;
                    return state;
            }
            Dictionary<string, object> json = Json.ParseObject(body);
            _states[player] = state;
            state.RefreshedAtUtc = Json.GetDateTime(json, "refreshed_at");
            foreach (KeyValuePair<string, object> entry in Json.GetObject(json, "synced") ?? new Dictionary<string, object>())
                state.Synced[entry.Key] = SaveDocument.FromJson(entry.Value as Dictionary<string, object>);
            foreach (KeyValuePair<string, object> entry in Json.GetObject(json, "pending") ?? new Dictionary<string, object>())
            {
                var item = entry.Value as Dictionary<string, object>;
                if (item == null) continue;
                if (!IsValidKey(entry.Key))
                {
                    // Queued by an older kit under a key the panel does not take: it could never be sent, and would
                    // hold the queue behind it.
                    Debug.LogWarning("[GamingPanel] Cloud save: dropped a queued write under '" + entry.Key + "', not a save key.");
                    continue;
                }
                state.Pending[entry.Key] = PendingFromJson(item);
            }
            return state;
        }

        /// <summary>Keeps the state in memory and writes it through to disk; a failed disk write is logged.</summary>
        void Store(State state, string playerId = null)
        {
            string player = playerId ?? _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player)) return;
            _states[player] = state;
            if (state.MemoryOnly) return; // an unreadable file is not written over (LocalCache.LoadState)
            var synced = new Dictionary<string, object>();
            foreach (KeyValuePair<string, SaveDocument> entry in state.Synced) synced[entry.Key] = DocumentJson(entry.Value);
            var pending = new Dictionary<string, object>();
            foreach (KeyValuePair<string, Pending> entry in state.Pending) pending[entry.Key] = PendingJson(entry.Value);
            if (!_client.Cache.Save(player, StateCache,
                    Json.Serialize(new Dictionary<string, object>
                    {
                        { "synced", synced }, { "pending", pending },
                        { "refreshed_at", state.RefreshedAtUtc.HasValue ? (object)state.RefreshedAtUtc.Value : null },
                    })))
            {
                Debug.LogError("[GamingPanel] Cloud save: the local copy could not be written to disk. The saves are kept in " +
                    "memory and still sync this session, but those not synced are lost if the game closes first.");
            }
        }

        static Pending PendingFromJson(Dictionary<string, object> item)
        {
            object baseVersion;
            item.TryGetValue("base_version", out baseVersion);
            Dictionary<string, object> unconfirmed = Json.GetObject(item, "unconfirmed");
            return new Pending
            {
                ValueJson = Json.GetString(item, "value_json"),
                Deleted = Json.GetBool(item, "deleted"),
                BaseVersion = baseVersion == null ? (long?)null : Json.ToLong(baseVersion),
                IdempotencyKey = Json.GetString(item, "idempotency_key"),
                Sent = Json.GetBool(item, "sent"),
                Unconfirmed = unconfirmed == null ? null : PendingFromJson(unconfirmed),
                Conflict = Json.GetBool(item, "conflict"),
                Server = SaveDocument.FromJson(Json.GetObject(item, "server")),
            };
        }

        static Dictionary<string, object> PendingJson(Pending p)
        {
            return new Dictionary<string, object>
            {
                { "value_json", p.ValueJson },
                { "deleted", p.Deleted },
                { "base_version", p.BaseVersion.HasValue ? (object)p.BaseVersion.Value : null },
                { "idempotency_key", p.IdempotencyKey },
                { "sent", p.Sent },
                { "unconfirmed", p.Unconfirmed == null ? null : PendingJson(p.Unconfirmed) },
                { "conflict", p.Conflict },
                { "server", p.Server == null ? null : DocumentJson(p.Server) },
            };
        }

        static Dictionary<string, object> DocumentJson(SaveDocument document)
        {
            return new Dictionary<string, object>
            {
                { "key", document.Key },
                { "version", document.Version },
                { "value", document.ValueJson == null ? null : Json.Parse(document.ValueJson) },
                { "updated_at", document.UpdatedAtUtc.HasValue ? (object)document.UpdatedAtUtc.Value : null },
            };
        }
    }
}
