// Gaming Panel Unity example: one HTTP exchange with the Gaming Panel API over UnityWebRequest.
//
// SendAsync returns the response for a 2xx and throws ApiError for anything else, including "no response"
// (Status 0, code network_error). It knows nothing about tokens: GamingPanelClient adds the bearer token and
// the refresh/retry rules on top.
using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using UnityEngine.Networking;

using GamingPanel.Internal;

namespace GamingPanel
{
    public sealed class HttpResult
    {
        public int Status;
        public string Body;
        readonly Dictionary<string, string> _headers;
        object _json;
        bool _parsed;

        public HttpResult(int status, string body, Dictionary<string, string> headers)
        {
            Status = status;
            Body = body ?? "";
            _headers = headers ?? new Dictionary<string, string>();
        }

        /// <summary>The parsed body: a Dictionary, a List, or null for an empty body.</summary>
        public object Json
        {
            get
            {
                if (!_parsed)
                {
                    _parsed = true;
                    if (Body.Length > 0)
                    {
                        try { _json = GamingPanel.Json.Parse(Body); }
                        catch (FormatException e)
                        {
                            throw new ApiError(Status, ErrorCodes.InvalidResponse, "Invalid response", "The server sent a body that is not JSON: " + e.Message);
                        }
                    }
                }
                return _json;
            }
        }

        public Dictionary<string, object> JsonObject
        {
            get
            {
                var obj = Json as Dictionary<string, object>;
                if (obj == null) throw new ApiError(Status, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON object.");
                return obj;
            }
        }

        public List<object> JsonArray
        {
            get
            {
                var array = Json as List<object>;
                if (array == null) throw new ApiError(Status, ErrorCodes.InvalidResponse, "Invalid response", "Expected a JSON array.");
                return array;
            }
        }

        public string Header(string name)
        {
            string value;
            return _headers.TryGetValue(name.ToLowerInvariant(), out value) ? value : null;
        }
    }

    /// <summary>
    /// One HTTP exchange. GamingPanelHttp (UnityWebRequest) is the implementation games use; implement it
    /// yourself to route through another HTTP stack (BestHTTP, a proxy) or to fake the server in tests.
    /// Contract: return the response for a 2xx, throw ApiError for anything else (Status 0 for no response).
    /// </summary>
    public interface IGamingPanelTransport
    {
        Task<HttpResult> SendAsync(string method, string path, object body,
            IDictionary<string, string> headers, CancellationToken cancellationToken);
    }

    public sealed class GamingPanelHttp : IGamingPanelTransport
    {
        static readonly string[] InterestingHeaders = { "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Location", "ETag", "Date" };

        readonly string _baseUrl;
        readonly int _timeoutSeconds;

        public GamingPanelHttp(string baseUrl, int timeoutSeconds)
        {
            if (string.IsNullOrEmpty(baseUrl)) throw new ArgumentException("baseUrl is empty: set it on the GamingPanelConfig asset.");
            _baseUrl = baseUrl.EndsWith("/") ? baseUrl : baseUrl + "/";
            _timeoutSeconds = Math.Max(1, timeoutSeconds);
        }

        public string BaseUrl { get { return _baseUrl; } }

        /// <param name="path">Relative to the API root, without a leading slash, e.g. "player/stats".</param>
        /// <param name="body">Serialised with Json.Serialize (dictionaries, lists, strings, numbers); null sends no body.</param>
        public async Task<HttpResult> SendAsync(string method, string path, object body,
            IDictionary<string, string> headers, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (var request = new UnityWebRequest(_baseUrl + path.TrimStart('/'), method))
            {
                request.downloadHandler = new DownloadHandlerBuffer();
                if (body != null)
                {
                    request.uploadHandler = new UploadHandlerRaw(Encoding.UTF8.GetBytes(GamingPanel.Json.Serialize(body)));
                    request.uploadHandler.contentType = "application/json";
                    request.SetRequestHeader("Content-Type", "application/json");
                }
                request.SetRequestHeader("Accept", "application/json, application/problem+json");
                if (headers != null)
                {
                    foreach (KeyValuePair<string, string> header in headers) request.SetRequestHeader(header.Key, header.Value);
                }
                request.timeout = _timeoutSeconds;

                using (cancellationToken.Register(request.Abort))
                {
                    await request.SendWebRequest();
                }
                cancellationToken.ThrowIfCancellationRequested();

                if (request.result == UnityWebRequest.Result.ConnectionError)
                {
                    // No HTTP answer at all: offline, DNS, TLS, timeout. Never log the request headers here,
                    // they hold tokens.
                    throw ApiError.Network(request.error ?? "Connection failed.");
                }

                int status = (int)request.responseCode;
                string text = request.downloadHandler != null ? request.downloadHandler.text : "";
                var responseHeaders = new Dictionary<string, string>();
                foreach (string name in InterestingHeaders)
                {
                    string value = request.GetResponseHeader(name);
                    if (value != null) responseHeaders[name.ToLowerInvariant()] = value;
                }

                if (status >= 200 && status < 300) return new HttpResult(status, text, responseHeaders);
                if (status == 0) throw ApiError.Network(request.error ?? "No response.");
                throw ApiError.FromResponse(status, text, request.GetResponseHeader("Retry-After"));
            }
        }
    }
}
