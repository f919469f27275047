// Gaming Panel Unity example: cloud save, offline-first.
//
// The device keeps, per player and key, the last synced document (value and version) and, when the player saved
// while offline or before the sync ran, one pending write per key: the newest value, the version it was made from
// and an Idempotency-Key. SyncAsync sends the pending writes with If-Match (or If-None-Match: * for a new key):
//   - 200/201: the answer becomes the synced copy;
//   - 412 precondition_failed: another device wrote first. Nothing is overwritten: the conflict, with both copies
//     (the local value and the server's current document), goes to the game (Conflicts, ConflictDetected) and stays
//     queued until the game resolves it (keep local, keep the server's, or a merged value);
//   - 400/403/413/422: the write can never succeed as it is; it is dropped and reported (Rejected) with the value
//     it carried, so the game can keep or show it;
//   - 401 (the session is over and could not be renewed): the write stays queued, the sync stops and reports
//     NeedsLogin; the next sync after the player logs in again sends it;
//   - no answer, 429, 5xx: it stays queued for the next sync; the same Idempotency-Key makes a write that did reach
//     the server count once.
// See docs/guide/offline.md.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

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
        public readonly List<SaveDocument> Written = new List<SaveDocument>();
        public readonly List<SaveConflict> Conflicts = new List<SaveConflict>();
        /// <summary>Writes dropped because the server can never accept them (with the reason).</summary>
        public readonly List<SaveRejection> Rejected = new List<SaveRejection>();
        /// <summary>True when the server could not be reached: the remaining writes stay queued.</summary>
        public bool Offline;
        /// <summary>The session is over (401 after a renewal): log the player in again; the writes stay queued.</summary>
        public bool NeedsLogin;
        public int StillQueued;
    }

    /// <summary>A queued write the server refused for good (400, 403, 413, 422): dropped from the queue, with the value it carried.</summary>
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

        public CloudSaveService(GamingPanelClient client)
        {
            _client = client;
        }

        /// <summary>Raised for each conflict a sync finds (also listed in SyncReport.Conflicts and Conflicts).</summary>
        public event Action<SaveConflict> ConflictDetected;

        /// <summary>The local value of a key: the pending write when there is one, else the synced copy.</summary>
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
                _readVersions.Remove(ReadSlot(key)); // the game saw no document: a save creates one
                valueJson = null;
                return false;
            }
        }

        /// <summary>Saves locally at once and queues the write; SyncAsync sends it.</summary>
        public void Save(string key, object value)
        {
            if (value == null) throw new ArgumentNullException("value", "Use Delete to remove a key.");
            Queue(key, Json.Serialize(value), false);
        }

        /// <summary>Deletes locally and queues the delete (only of a key the server has).</summary>
        public void Delete(string key)
        {
            Queue(key, null, true);
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
            lock (_lock)
            {
                State state = Load();
                Pending pending;
                if (!state.Pending.TryGetValue(key, out pending) || !pending.Conflict)
                    throw new InvalidOperationException("No conflict on " + key + ".");
                SaveDocument server = pending.Server;
                // The game decided with the server's copy in hand: what it saves next builds on that.
                if (server != null) _readVersions[ReadSlot(key)] = server.Version; else _readVersions.Remove(ReadSlot(key));
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
                    pending.Conflict = false;
                    pending.Server = null;
                    if (server != null) state.Synced[key] = server; else state.Synced.Remove(key);
                    if (pending.Deleted && server == null) state.Pending.Remove(key); // both sides deleted it
                }
                Store(state);
            }
        }

        /// <summary>GET player/saves: replaces the synced copies (queued writes stay queued). Offline: the local state.</summary>
        public async Task<Cached<List<SaveDocument>>> RefreshAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            try
            {
                HttpResult response = await _client.SendAuthorizedAsync("GET", "player/saves", null, null, true, cancellationToken);
                var documents = new List<SaveDocument>();
                foreach (object item in response.JsonArray ?? new List<object>())
                    documents.Add(SaveDocument.FromJson(item as Dictionary<string, object>));
                lock (_lock)
                {
                    State state = Load();
                    state.Synced.Clear();
                    foreach (SaveDocument document in documents) state.Synced[document.Key] = document;
                    Store(state);
                }
                return new Cached<List<SaveDocument>> { Value = documents, FetchedAtUtc = DateTime.UtcNow };
            }
            catch (ApiError error)
            {
                if (!error.IsTransient) throw;
                lock (_lock)
                {
                    return new Cached<List<SaveDocument>>
                    {
                        Value = new List<SaveDocument>(Load().Synced.Values), FromCache = true, Error = error,
                    };
                }
            }
        }

        /// <summary>Sends every queued write that is not waiting on a conflict. Never overwrites another device's write.</summary>
        public async Task<SyncReport> SyncAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            var report = new SyncReport();
            // The sync is one player's: it reads and writes that player's state whatever happens meanwhile, and
            // stops (before sending anything more) when another player logs in on this device.
            string player = _client.Auth.PlayerId;
            if (string.IsNullOrEmpty(player)) { report.NeedsLogin = true; return report; }
            List<KeyValuePair<string, Pending>> queued;
            lock (_lock) queued = new List<KeyValuePair<string, Pending>>(Load(player).Pending);
            foreach (KeyValuePair<string, Pending> entry in queued)
            {
                if (entry.Value.Conflict)
                {
                    report.Conflicts.Add(ConflictOf(entry.Key, entry.Value)); // still waiting for the game
                    continue;
                }
                if (report.Offline || report.NeedsLogin) break;
                if (_client.Auth.PlayerId != player)
                {
                    report.NeedsLogin = true; // another player now: this one's writes wait for their next session
                    break;
                }
                await SendAsync(player, entry.Key, entry.Value, report, cancellationToken);
            }
            lock (_lock) report.StillQueued = Load(player).Pending.Count;
            return report;
        }

        async Task SendAsync(string player, string key, Pending pending, SyncReport report, CancellationToken cancellationToken)
        {
            var headers = new Dictionary<string, string> { { "Idempotency-Key", pending.IdempotencyKey } };
            if (pending.BaseVersion.HasValue) headers["If-Match"] = "\"" + pending.BaseVersion.Value + "\"";
            else headers["If-None-Match"] = "*";
            string path = "player/saves/" + Uri.EscapeDataString(key);
            try
            {
                if (pending.Deleted)
                {
                    await _client.SendAuthorizedAsync("DELETE", path, null, headers, true, cancellationToken);
                    Settle(player, key, pending, null);
                    return;
                }
                var body = new Dictionary<string, object> { { "value", Json.Parse(pending.ValueJson) } };
                HttpResult response = await _client.SendAuthorizedAsync("PUT", path, body, headers, true, cancellationToken);
                SaveDocument written = SaveDocument.FromJson(response.JsonObject);
                Settle(player, key, pending, written);
                report.Written.Add(written);
            }
            catch (ApiError error)
            {
                if (error.IsTransient)
                {
                    report.Offline = true;
                    return;
                }
                if (error.Status == 412 || (pending.Deleted && error.Status == 404))
                {
                    SaveDocument current = SaveDocument.FromJson(Json.GetObject(error.Problem ?? new Dictionary<string, object>(), "current"));
                    SaveConflict conflict = MarkConflict(player, key, pending, current);
                    if (conflict == null) return; // nothing left to decide (the key is gone on both sides)
                    report.Conflicts.Add(conflict);
                    Action<SaveConflict> handler = ConflictDetected;
                    if (handler != null) handler(conflict);
                    return;
                }
                if (error.Status == 401)
                {
                    report.NeedsLogin = true; // the player's progress stays queued for the next session
                    return;
                }
                // 400, 403, 413, 422: this write can never succeed as it is. Drop it, keep the synced copy, and hand
                // its value to the game with the reason.
                lock (_lock)
                {
                    State state = Load(player);
                    Pending now;
                    if (state.Pending.TryGetValue(key, out now) && now.IdempotencyKey == pending.IdempotencyKey)
                        state.Pending.Remove(key);
                    Store(state, player);
                }
                report.Rejected.Add(new SaveRejection
                {
                    Key = key, ValueJson = pending.Deleted ? null : pending.ValueJson, Deleted = pending.Deleted, Error = error,
                });
            }
        }

        // Per player and key, the version of the synced copy the game last read (TryGet) or wrote: a new save
        // builds on it. Kept in memory: after a restart the game reads again before it saves.
        readonly Dictionary<string, long> _readVersions = new Dictionary<string, long>();

        string ReadSlot(string key, string player = null)
        {
            return (player ?? _client.Auth.PlayerId ?? "") + "\n" + key;
        }

        void Queue(string key, string valueJson, bool deleted)
        {
            // Saves are kept per player: with nobody logged in there is no one to keep them for, and a save written
            // nowhere would be lost without a word.
            if (string.IsNullOrEmpty(_client.Auth.PlayerId))
                throw new InvalidOperationException("No player is logged in: log in (once, online) before saving to the cloud.");
            lock (_lock)
            {
                State state = Load();
                Pending pending;
                if (!state.Pending.TryGetValue(key, out pending))
                {
                    SaveDocument synced;
                    long readVersion;
                    bool read = _readVersions.TryGetValue(ReadSlot(key), out readVersion);
                    if (deleted && !state.Synced.ContainsKey(key) && !read) return; // never synced: nothing to delete
                    // Built on the version the game last read (TryGet), not on whatever a refresh has brought
                    // since: a document another device wrote after that read makes this write a conflict.
                    pending = new Pending
                    {
                        BaseVersion = read ? (long?)readVersion
                            : state.Synced.TryGetValue(key, out synced) ? (long?)synced.Version : null,
                    };
                    state.Pending[key] = pending;
                }
                // The newest value per key, from the same base version; a new value gets a new Idempotency-Key.
                pending.ValueJson = valueJson;
                pending.Deleted = deleted;
                pending.IdempotencyKey = Guid.NewGuid().ToString();
                Store(state);
            }
        }

        void Settle(string player, string key, Pending sent, SaveDocument written)
        {
            lock (_lock)
            {
                State state = Load(player);
                Pending now;
                bool same = state.Pending.TryGetValue(key, out now) && now.IdempotencyKey == sent.IdempotencyKey;
                if (written != null) state.Synced[key] = written; else state.Synced.Remove(key);
                if (written != null) _readVersions[ReadSlot(key, player)] = written.Version; // the device's value is this one
                else _readVersions.Remove(ReadSlot(key, player));
                if (same) state.Pending.Remove(key);
                else if (now != null) now.BaseVersion = written != null ? (long?)written.Version : null; // saved again meanwhile
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
            return new SaveConflict { Key = key, LocalValueJson = pending.Deleted ? null : pending.ValueJson, Server = pending.Server };
        }

        // ------------------------------------------------------------------------------------------ local state

        sealed class Pending
        {
            public string ValueJson;
            public bool Deleted;
            public long? BaseVersion;
            public string IdempotencyKey;
            public bool Conflict;
            public SaveDocument Server;
        }

        sealed class State
        {
            public readonly Dictionary<string, SaveDocument> Synced = new Dictionary<string, SaveDocument>();
            public readonly Dictionary<string, Pending> Pending = new Dictionary<string, Pending>();
        }

        State Load(string playerId = null)
        {
            var state = new State();
            string body;
            DateTime savedAt;
            if (!_client.Cache.TryLoad(playerId ?? _client.Auth.PlayerId, StateCache, out body, out savedAt)) return state;
            Dictionary<string, object> json = Json.ParseObject(body);
            if (json == null) return state;
            foreach (KeyValuePair<string, object> entry in Json.GetObject(json, "synced") ?? new Dictionary<string, object>())
                state.Synced[entry.Key] = SaveDocument.FromJson(entry.Value as Dictionary<string, object>);
            foreach (KeyValuePair<string, object> entry in Json.GetObject(json, "pending") ?? new Dictionary<string, object>())
            {
                var item = entry.Value as Dictionary<string, object>;
                if (item == null) continue;
                object baseVersion;
                item.TryGetValue("base_version", out baseVersion);
                state.Pending[entry.Key] = new Pending
                {
                    ValueJson = Json.GetString(item, "value_json"),
                    Deleted = Json.GetBool(item, "deleted"),
                    BaseVersion = baseVersion == null ? (long?)null : Json.ToLong(baseVersion),
                    IdempotencyKey = Json.GetString(item, "idempotency_key"),
                    Conflict = Json.GetBool(item, "conflict"),
                    Server = SaveDocument.FromJson(Json.GetObject(item, "server")),
                };
            }
            return state;
        }

        void Store(State state, string playerId = null)
        {
            var synced = new Dictionary<string, object>();
            foreach (KeyValuePair<string, SaveDocument> entry in state.Synced) synced[entry.Key] = DocumentJson(entry.Value);
            var pending = new Dictionary<string, object>();
            foreach (KeyValuePair<string, Pending> entry in state.Pending)
            {
                Pending p = entry.Value;
                pending[entry.Key] = new Dictionary<string, object>
                {
                    { "value_json", p.ValueJson },
                    { "deleted", p.Deleted },
                    { "base_version", p.BaseVersion.HasValue ? (object)p.BaseVersion.Value : null },
                    { "idempotency_key", p.IdempotencyKey },
                    { "conflict", p.Conflict },
                    { "server", p.Server == null ? null : DocumentJson(p.Server) },
                };
            }
            _client.Cache.Save(playerId ?? _client.Auth.PlayerId, StateCache,
                Json.Serialize(new Dictionary<string, object> { { "synced", synced }, { "pending", pending } }));
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
