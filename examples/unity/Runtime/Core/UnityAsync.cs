// Gaming Panel Unity example: glue between UnityWebRequest, async/await and coroutines.
//
// - `await request.SendWebRequest()` works inside the SDK through the small internal awaiter below (no package
//   needed, and no public GetAwaiter to collide with UniTask's). Unity runs
//   await continuations on the main thread through its SynchronizationContext, so results can touch
//   GameObjects directly.
// - Teams that prefer coroutines wrap any Task from this SDK with AsCoroutine(...).
using System;
using System.Collections;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using UnityEngine;
using UnityEngine.Networking;

namespace GamingPanel.Internal
{
    // Internal and in a namespace of its own: UniTask (Cysharp.Threading.Tasks) declares a public
    // GetAwaiter for the same type, and a second public one in scope would make `await` ambiguous
    // in a game that uses both.
    internal struct UnityWebRequestAwaiter : INotifyCompletion
    {
        readonly UnityWebRequestAsyncOperation _operation;

        public UnityWebRequestAwaiter(UnityWebRequestAsyncOperation operation)
        {
            _operation = operation;
        }

        public bool IsCompleted { get { return _operation.isDone; } }

        public void OnCompleted(Action continuation)
        {
            _operation.completed += _ => continuation();
        }

        public UnityWebRequest GetResult()
        {
            return _operation.webRequest;
        }
    }

    internal static class UnityWebRequestAwaitExtensions
    {
        internal static UnityWebRequestAwaiter GetAwaiter(this UnityWebRequestAsyncOperation operation)
        {
            return new UnityWebRequestAwaiter(operation);
        }
    }
}

namespace GamingPanel
{
    public static class UnityAsyncExtensions
    {

        /// <summary>
        /// Runs a Task from a coroutine: <c>yield return client.Player.GetStatsAsync().AsCoroutine(OnStats, OnError);</c>
        /// </summary>
        public static IEnumerator AsCoroutine<T>(this Task<T> task, Action<T> onSuccess, Action<ApiError> onError = null)
        {
            while (!task.IsCompleted) yield return null;
            if (task.IsFaulted || task.IsCanceled)
            {
                ApiError error = Unwrap(task.Exception);
                if (onError != null) onError(error);
                else Debug.LogWarning("[GamingPanel] " + error);
                yield break;
            }
            if (onSuccess != null) onSuccess(task.Result);
        }

        public static IEnumerator AsCoroutine(this Task task, Action onSuccess = null, Action<ApiError> onError = null)
        {
            while (!task.IsCompleted) yield return null;
            if (task.IsFaulted || task.IsCanceled)
            {
                ApiError error = Unwrap(task.Exception);
                if (onError != null) onError(error);
                else Debug.LogWarning("[GamingPanel] " + error);
                yield break;
            }
            if (onSuccess != null) onSuccess();
        }

        /// <summary>Turns whatever a failed task holds into an ApiError (cancellation and bugs included).</summary>
        public static ApiError Unwrap(Exception exception)
        {
            var aggregate = exception as AggregateException;
            if (aggregate != null && aggregate.InnerExceptions.Count == 1) exception = aggregate.InnerExceptions[0];
            var apiError = exception as ApiError;
            if (apiError != null) return apiError;
            if (exception == null || exception is OperationCanceledException)
                return new ApiError(0, "cancelled", "Cancelled", "The request was cancelled.");
            return new ApiError(0, "client_error", exception.GetType().Name, exception.Message);
        }
    }
}
