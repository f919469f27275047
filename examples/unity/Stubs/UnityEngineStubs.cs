// COMPILE-ONLY STAND-INS. NOT PART OF THE SDK. DO NOT COPY INTO A UNITY PROJECT.
//
// These are empty shapes of exactly the UnityEngine, UnityEngine.Networking and Steamworks.NET members the
// example scripts use, so CI can type-check the scripts with Mono's `mcs` without a Unity installation
// (scripts/check_examples.sh). They do nothing at run time. Unity always defines UNITY_5_3_OR_NEWER, so even
// if this file ends up in Assets/ by mistake it compiles to nothing and the real engine types are used.
// When a script starts using a new engine member, add its signature here (matching Unity's API).
#if !UNITY_5_3_OR_NEWER
using System;
using System.Collections;

namespace UnityEngine
{
    public class Object
    {
        public static void DontDestroyOnLoad(Object target) { }
    }

    public class GameObject : Object { }

    public class Component : Object
    {
        public GameObject gameObject { get { return null; } }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public sealed class Coroutine { }

    public class MonoBehaviour : Behaviour
    {
        public Coroutine StartCoroutine(IEnumerator routine) { return null; }
        public void StopCoroutine(Coroutine routine) { }
    }

    public class ScriptableObject : Object
    {
        public static T CreateInstance<T>() where T : ScriptableObject, new() { return new T(); }
    }

    public class CustomYieldInstruction { }

    public sealed class WaitForSecondsRealtime : CustomYieldInstruction
    {
        public WaitForSecondsRealtime(float time) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class CreateAssetMenuAttribute : Attribute
    {
        public string fileName { get; set; }
        public string menuName { get; set; }
        public int order { get; set; }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    public static class Debug
    {
        public static void Log(object message) { }
        public static void LogWarning(object message) { }
        public static void LogError(object message) { }
    }

    public static class Application
    {
        public static string persistentDataPath { get { return System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gamingpanel-stub-data"); } }
        public static string version { get { return ""; } }
        public static void OpenURL(string url) { }
        public static event Func<bool> wantsToQuit { add { } remove { } }
        public static void Quit() { }
    }

    // In memory, so the behaviour tests in examples/unity/Tests can exercise code that persists state.
    public static class PlayerPrefs
    {
        static readonly System.Collections.Generic.Dictionary<string, string> Values = new System.Collections.Generic.Dictionary<string, string>();
        public static bool HasKey(string key) { lock (Values) return Values.ContainsKey(key); }
        public static string GetString(string key) { lock (Values) { string v; return Values.TryGetValue(key, out v) ? v : ""; } }
        // Tests only (Unity has no such member): called as SetString begins, outside the lock, so a test can hold a
        // read-modify-write of a key between its read and its write (examples/unity/Tests/RaceTests.cs).
        internal static Action<string> BeforeSetString;
        public static void SetString(string key, string value)
        {
            Action<string> before = BeforeSetString;
            if (before != null) before(key);
            lock (Values) Values[key] = value;
        }
        public static void DeleteKey(string key) { lock (Values) Values.Remove(key); }
        public static void DeleteAll() { lock (Values) Values.Clear(); }
        public static void Save() { }
    }

    public static class Time
    {
        public static float realtimeSinceStartup { get { return 0f; } }
    }

    public class AsyncOperation
    {
        public bool isDone { get { return false; } }
        public event Action<AsyncOperation> completed { add { } remove { } }
    }
}

namespace UnityEngine.Networking
{
    public class UploadHandler : IDisposable
    {
        public string contentType { get; set; }
        public void Dispose() { }
    }

    public sealed class UploadHandlerRaw : UploadHandler
    {
        public UploadHandlerRaw(byte[] data) { }
    }

    public class DownloadHandler : IDisposable
    {
        public string text { get { return ""; } }
        public void Dispose() { }
    }

    public sealed class DownloadHandlerBuffer : DownloadHandler { }

    public sealed class UnityWebRequestAsyncOperation : AsyncOperation
    {
        public UnityWebRequest webRequest { get { return null; } }
    }

    public class UnityWebRequest : IDisposable
    {
        public enum Result { InProgress, Success, ConnectionError, ProtocolError, DataProcessingError }

        public UnityWebRequest(string url, string method) { }

        public UploadHandler uploadHandler { get; set; }
        public DownloadHandler downloadHandler { get; set; }
        public int timeout { get; set; }
        public Result result { get { return Result.InProgress; } }
        public long responseCode { get { return 0; } }
        public string error { get { return null; } }

        public void SetRequestHeader(string name, string value) { }
        public string GetResponseHeader(string name) { return null; }
        public UnityWebRequestAsyncOperation SendWebRequest() { return null; }
        public void Abort() { }
        public void Dispose() { }
    }
}

namespace Steamworks
{
    public enum EResult { k_EResultNone = 0, k_EResultOK = 1, k_EResultFail = 2 }

    public struct HAuthTicket : IEquatable<HAuthTicket>
    {
        public static readonly HAuthTicket Invalid = new HAuthTicket(0);
        public uint m_HAuthTicket;

        public HAuthTicket(uint value) { m_HAuthTicket = value; }

        public static bool operator ==(HAuthTicket x, HAuthTicket y) { return x.m_HAuthTicket == y.m_HAuthTicket; }
        public static bool operator !=(HAuthTicket x, HAuthTicket y) { return !(x == y); }
        public bool Equals(HAuthTicket other) { return m_HAuthTicket == other.m_HAuthTicket; }
        public override bool Equals(object other) { return other is HAuthTicket && this == (HAuthTicket)other; }
        public override int GetHashCode() { return m_HAuthTicket.GetHashCode(); }
    }

    public struct GetTicketForWebApiResponse_t
    {
        public HAuthTicket m_hAuthTicket;
        public EResult m_eResult;
        public int m_cubTicket;
        public byte[] m_rgubTicket;
    }

    public static class SteamUser
    {
        public static HAuthTicket GetAuthTicketForWebApi(string pchIdentity) { return HAuthTicket.Invalid; }
        public static void CancelAuthTicket(HAuthTicket hAuthTicket) { }
    }

    public sealed class Callback<T> : IDisposable
    {
        public delegate void DispatchDelegate(T param);

        public static Callback<T> Create(DispatchDelegate func) { return new Callback<T>(); }
        public void Unregister() { }
        public void Dispose() { }
    }
}
#endif
