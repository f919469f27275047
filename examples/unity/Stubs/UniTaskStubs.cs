// CI only (scripts/check_examples.sh): a stand-in for UniTask's public GetAwaiter extension on
// UnityWebRequestAsyncOperation, and a game's file that uses UniTask and the SDK together. It compiles only
// if the SDK brings no second public GetAwaiter into scope (see Runtime/Core/UnityAsync.cs).
#if !UNITY_5_3_OR_NEWER
using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using UnityEngine.Networking;

namespace Cysharp.Threading.Tasks
{
    public struct UniTaskRequestAwaiter : INotifyCompletion
    {
        public bool IsCompleted { get { return true; } }
        public void OnCompleted(Action continuation) { continuation(); }
        public UnityWebRequest GetResult() { return null; }
    }

    public static class UnityAsyncExtensions
    {
        public static UniTaskRequestAwaiter GetAwaiter(this UnityWebRequestAsyncOperation operation)
        {
            return new UniTaskRequestAwaiter();
        }
    }
}

namespace GamingPanel.Checks
{
    using Cysharp.Threading.Tasks;
    using GamingPanel;

    static class UsesUniTaskAndTheSdk
    {
        static async Task<UnityWebRequest> Fetch(UnityWebRequest request)
        {
            return await request.SendWebRequest(); // UniTask's awaiter, unambiguous
        }
    }
}
#endif
