// Gaming Panel Unity example: last good server responses on disk, per player, for offline play.
//
// The cache is read-only from the game's point of view: it shows what the server last said. Never grant or
// spend from it; the server is the only authority on balances and items.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using UnityEngine;

namespace GamingPanel
{
    public sealed class LocalCache
    {
        readonly string _root;
        // Players whose account was deleted (Erase): nothing is written for them again, so a late answer (a sync, a
        // read, a flush still out) cannot put their data back on the device.
        readonly HashSet<string> _erased = new HashSet<string>();
        // Held by every write into a player's folder (Save, SetAside) from its _erased check to its last file call, by
        // Erase while it marks the player, and by Clear while it deletes the folder: a write that found the player not
        // erased ends before Erase returns (so before the wipe deletes the folder), and none runs while a folder goes.
        readonly object _writing = new object();

        /// <summary>Tests only: called in Save once the player is found not erased, before the folder and file are written.</summary>
        internal Action<string, string> BeforeWrite;

        public LocalCache(string root = null)
        {
            _root = root ?? Path.Combine(Application.persistentDataPath, "GamingPanelCache");
        }

        /// <summary>Writes one copy; false (and a warning logged) when it could not be written, e.g. the disk is full.</summary>
        public bool Save(string playerId, string name, string body)
        {
            if (string.IsNullOrEmpty(playerId)) return false;
            string path = PathFor(playerId, name);
            string document = Json.Serialize(new Dictionary<string, object>
            {
                { "fetched_at", DateTime.UtcNow },
                { "body", body },
            });
            // The check and the write under one lock: checked alone, a write could find the player not erased, the wipe
            // delete the folder, and the write then put the folder and a file of the deleted player back.
            lock (_writing)
            {
                if (_erased.Contains(playerId)) return false;
                Action<string, string> beforeWrite = BeforeWrite;
                if (beforeWrite != null) beforeWrite(playerId, name);
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path));
                    // Write a temporary file, then swap it in with one call (File.Replace over an existing copy, a
                    // rename otherwise), so a crash mid-write never leaves a half file or no file as the only copy.
                    // TryLoad reads the temporary file when the main one is missing.
                    string temporary = TemporaryPath(path);
                    File.WriteAllText(temporary, document, Encoding.UTF8);
                    if (File.Exists(path)) File.Replace(temporary, path, null);
                    else File.Move(temporary, path);
                    return true;
                }
                catch (Exception e)
                {
                    Debug.LogWarning("[GamingPanel] Could not write cache " + name + ": " + e.Message);
                    return false;
                }
            }
        }

        /// <summary>Whether this player has a copy on disk, readable or not.</summary>
        public bool Exists(string playerId, string name)
        {
            if (string.IsNullOrEmpty(playerId)) return false;
            string path = PathFor(playerId, name);
            return File.Exists(path) || File.Exists(TemporaryPath(path));
        }

        /// <summary>
        /// Moves a copy that cannot be read out of the way (beside it, named ...unreadable-yyyyMMddHHmmss), so that
        /// nothing is written over it; answers where it went, or null when it could not be moved (still locked).
        /// </summary>
        public string SetAside(string playerId, string name)
        {
            if (string.IsNullOrEmpty(playerId)) return null;
            string path = PathFor(playerId, name);
            if (!File.Exists(path)) path = TemporaryPath(path);
            string aside = PathFor(playerId, name + ".unreadable-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss"));
            lock (_writing)
            {
                if (_erased.Contains(playerId)) return null; // the folder is being (or has been) wiped: nothing moves into it
                try
                {
                    File.Move(path, aside);
                    return aside;
                }
                catch (Exception e)
                {
                    Debug.LogWarning("[GamingPanel] Could not move the unreadable cache " + name + " aside: " + e.Message);
                    return null;
                }
            }
        }

        /// <summary>What <see cref="LoadState"/> found on disk.</summary>
        public enum StateRead
        {
            /// <summary>No copy on disk: start empty, and write one.</summary>
            Missing,
            /// <summary>Read: body is the copy.</summary>
            Read,
            /// <summary>A copy that could not be read was moved aside (kept, never written over): start empty, and write a new one.</summary>
            MovedAside,
            /// <summary>A copy that could not be read could not be moved either: keep this session's state in memory, never write it over.</summary>
            MemoryOnly,
        }

        /// <summary>
        /// Reads a copy that holds what only this device knows (queued cloud saves, analytics events not sent yet),
        /// so that one which exists but cannot be read (cut short, corrupt, held by another program) is never written
        /// over, which would lose what it holds: it is moved aside (<see cref="SetAside"/>) or, when it cannot be
        /// moved, the caller keeps its state in memory this session. isReadable: whether the body is the shape the
        /// caller expects (a body that is not counts as unreadable). what: names the copy in the error logged.
        /// </summary>
        public StateRead LoadState(string playerId, string name, Func<string, bool> isReadable, string what, out string body)
        {
            DateTime savedAt;
            if (TryLoad(playerId, name, out body, out savedAt))
            {
                bool readable;
                try { readable = isReadable(body); }
                catch (Exception) { readable = false; }
                if (readable) return StateRead.Read;
            }
            else if (!Exists(playerId, name))
            {
                return StateRead.Missing;
            }
            body = null;
            string aside = SetAside(playerId, name);
            if (aside != null)
            {
                Debug.LogError("[GamingPanel] " + what + ": the local copy could not be read; it is kept as " + aside +
                    " (what it holds is not sent). Starting empty.");
                return StateRead.MovedAside;
            }
            Debug.LogError("[GamingPanel] " + what + ": the local copy can neither be read nor moved; this session's " +
                "state is kept in memory, and the file is not written over.");
            return StateRead.MemoryOnly;
        }

        public bool TryLoad(string playerId, string name, out string body, out DateTime fetchedAtUtc)
        {
            body = null;
            fetchedAtUtc = DateTime.MinValue;
            if (string.IsNullOrEmpty(playerId)) return false;
            string path = PathFor(playerId, name);
            try
            {
                // No main file but a temporary one: a crash came between writing it and swapping it in.
                if (!File.Exists(path)) path = TemporaryPath(path);
                if (!File.Exists(path)) return false;
                Dictionary<string, object> document = Json.ParseObject(File.ReadAllText(path, Encoding.UTF8));
                body = Json.GetString(document, "body");
                DateTime? fetched = Json.GetDateTime(document, "fetched_at");
                fetchedAtUtc = fetched.HasValue ? fetched.Value : DateTime.MinValue;
                return body != null;
            }
            catch (Exception e)
            {
                Debug.LogWarning("[GamingPanel] Could not read cache " + name + ": " + e.Message);
                return false;
            }
        }

        /// <summary>Raised by Clear, so copies kept in memory (cloud save's state) are forgotten with the files.</summary>
        internal event Action<string> Cleared;

        /// <summary>Forget one player's cached data (e.g. on logout from a shared device).</summary>
        public void Clear(string playerId)
        {
            if (string.IsNullOrEmpty(playerId)) return;
            Action<string> cleared = Cleared;
            if (cleared != null) cleared(playerId);
            string folder = Path.Combine(_root, Safe(playerId));
            // Not while a write is under way: it could put a file back into the folder being deleted (or make the
            // delete fail, the folder left half full).
            lock (_writing)
            {
                try
                {
                    if (Directory.Exists(folder)) Directory.Delete(folder, true);
                }
                catch (Exception e)
                {
                    Debug.LogWarning("[GamingPanel] Could not clear cache: " + e.Message);
                }
            }
        }

        /// <summary>
        /// The player's account was deleted: forgets everything kept for them (Clear: the whole folder, copies set
        /// aside included, and what the services keep in memory) and writes nothing for them again in this run.
        /// </summary>
        internal void Erase(string playerId)
        {
            if (string.IsNullOrEmpty(playerId)) return;
            // Waits for a write under way (it found the player not erased, and ends first); none starts after this.
            lock (_writing) _erased.Add(playerId);
            Clear(playerId);
        }

        static string TemporaryPath(string path)
        {
            return path + ".tmp";
        }

        string PathFor(string playerId, string name)
        {
            return Path.Combine(Path.Combine(_root, Safe(playerId)), Safe(name) + ".json");
        }

        static string Safe(string text)
        {
            var safe = new StringBuilder(text.Length);
            foreach (char c in text) safe.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
            return safe.ToString();
        }
    }

    public static class CachedFetch
    {
        /// <summary>
        /// GETs path; on success saves the body and returns it parsed. When the server cannot be reached
        /// (network error, 429, 5xx) returns the last saved copy with FromCache = true instead of failing.
        /// The read belongs to the player logged in when it started: if another player (or nobody) is logged
        /// in by the time it is answered, nothing is kept or returned (401 not_logged_in).
        /// </summary>
        public static async System.Threading.Tasks.Task<Cached<T>> GetAsync<T>(GamingPanelClient client, string path,
            string cacheName, Func<object, T> parse, System.Threading.CancellationToken cancellationToken)
        {
            string player = client.Auth.PlayerId;
            ApiError failure;
            try
            {
                HttpResult response = await client.SendAuthorizedAsync("GET", path, null, null, true, player, cancellationToken);
                if (client.Auth.PlayerId != player) throw ApiError.PlayerChanged(); // never kept under another player
                T value = parse(response.Json);
                client.Cache.Save(player, cacheName, response.Body);
                return new Cached<T> { Value = value, FetchedAtUtc = DateTime.UtcNow };
            }
            catch (ApiError error)
            {
                if (!error.IsTransient) throw;
                failure = error;
            }

            string body;
            DateTime fetchedAt;
            if (client.Auth.PlayerId != player) throw ApiError.PlayerChanged(); // nor is this player's copy theirs
            if (!client.Cache.TryLoad(player, cacheName, out body, out fetchedAt)) throw failure;
            return new Cached<T> { Value = parse(Json.Parse(body)), FromCache = true, FetchedAtUtc = fetchedAt, Error = failure };
        }
    }
}
