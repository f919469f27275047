// Gaming Panel Unity example: a minimal JSON reader/writer.
//
// JsonUtility cannot read dictionaries ("currencies": {"gold": 120}, "stats": {...}) or top-level arrays
// (GET shop/categories), so this file parses into plain .NET values instead:
//   object      -> Dictionary<string, object>
//   array       -> List<object>
//   string      -> string
//   integer     -> long      (amounts are integers in the Gaming Panel API, never floats)
//   fraction    -> double
//   true/false  -> bool
//   null        -> null
// and serialises the same shapes back. The typed accessors at the bottom (GetString, GetLong, ...) never
// throw on a missing or mistyped field: they return the fallback, so a newer server adding fields (or a
// field arriving as 1 instead of 1.0) does not break an older game build.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace GamingPanel
{
    public static class Json
    {
        public static object Parse(string text)
        {
            if (text == null) throw new FormatException("JSON text is null.");
            var parser = new Parser(text);
            object value = parser.ReadValue();
            parser.SkipWhitespace();
            if (!parser.AtEnd) throw new FormatException("Unexpected characters after the JSON value at " + parser.Position + ".");
            return value;
        }

        /// <summary>Parses text and returns it as an object, or null when it is not a JSON object.</summary>
        public static Dictionary<string, object> ParseObject(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            try
            {
                return Parse(text) as Dictionary<string, object>;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        public static string Serialize(object value)
        {
            var builder = new StringBuilder(256);
            WriteValue(builder, value);
            return builder.ToString();
        }

        // ---------------------------------------------------------------- typed accessors

        public static string GetString(Dictionary<string, object> obj, string key, string fallback = null)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value) || value == null) return fallback;
            if (value is string) return (string)value;
            if (value is long) return ((long)value).ToString(CultureInfo.InvariantCulture);
            if (value is double) return ((double)value).ToString("R", CultureInfo.InvariantCulture);
            if (value is bool) return (bool)value ? "true" : "false";
            return fallback;
        }

        public static long GetLong(Dictionary<string, object> obj, string key, long fallback = 0)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value)) return fallback;
            return ToLong(value, fallback);
        }

        public static double GetDouble(Dictionary<string, object> obj, string key, double fallback = 0)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value)) return fallback;
            return ToDouble(value, fallback);
        }

        public static bool GetBool(Dictionary<string, object> obj, string key, bool fallback = false)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value) || !(value is bool)) return fallback;
            return (bool)value;
        }

        public static Dictionary<string, object> GetObject(Dictionary<string, object> obj, string key)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value)) return null;
            return value as Dictionary<string, object>;
        }

        public static List<object> GetArray(Dictionary<string, object> obj, string key)
        {
            object value;
            if (obj == null || !obj.TryGetValue(key, out value)) return null;
            return value as List<object>;
        }

        /// <summary>Reads an ISO 8601 timestamp ("2025-01-31T12:00:00Z"); null when absent or unreadable.</summary>
        public static DateTime? GetDateTime(Dictionary<string, object> obj, string key)
        {
            string text = GetString(obj, key);
            DateTime parsed;
            if (text != null && DateTime.TryParse(text, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out parsed))
            {
                return parsed;
            }
            return null;
        }

        public static long ToLong(object value, long fallback = 0)
        {
            if (value is long) return (long)value;
            if (value is double)
            {
                double d = (double)value;
                if (d >= long.MinValue && d <= long.MaxValue) return (long)Math.Round(d);
            }
            if (value is string)
            {
                long parsed;
                if (long.TryParse((string)value, NumberStyles.Integer, CultureInfo.InvariantCulture, out parsed)) return parsed;
            }
            return fallback;
        }

        public static double ToDouble(object value, double fallback = 0)
        {
            if (value is double) return (double)value;
            if (value is long) return (long)value;
            if (value is string)
            {
                double parsed;
                if (double.TryParse((string)value, NumberStyles.Float, CultureInfo.InvariantCulture, out parsed)) return parsed;
            }
            return fallback;
        }

        /// <summary>
        /// Ids (offer, event, reward, player) are kept as strings in the models. When sending one back, a
        /// numeric id goes out as a JSON number and anything else as a string, matching what the server sent.
        /// </summary>
        public static object IdValue(string id)
        {
            long numeric;
            if (id != null && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out numeric)) return numeric;
            return id;
        }

        // ---------------------------------------------------------------- writer

        static void WriteValue(StringBuilder builder, object value)
        {
            if (value == null) { builder.Append("null"); return; }
            if (value is string) { WriteString(builder, (string)value); return; }
            if (value is bool) { builder.Append((bool)value ? "true" : "false"); return; }
            if (value is double || value is float)
            {
                double d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(d) || double.IsInfinity(d)) builder.Append("null");
                else builder.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            if (value is int || value is long || value is short || value is byte || value is uint || value is ulong)
            {
                builder.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            }
            if (value is decimal)
            {
                builder.Append(((decimal)value).ToString(CultureInfo.InvariantCulture));
                return;
            }
            if (value is DateTime)
            {
                WriteString(builder, ((DateTime)value).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                return;
            }
            if (value is Enum)
            {
                WriteString(builder, value.ToString());
                return;
            }
            var dictionary = value as IDictionary;
            if (dictionary != null)
            {
                builder.Append('{');
                bool first = true;
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (!first) builder.Append(',');
                    first = false;
                    WriteString(builder, Convert.ToString(entry.Key, CultureInfo.InvariantCulture));
                    builder.Append(':');
                    WriteValue(builder, entry.Value);
                }
                builder.Append('}');
                return;
            }
            var list = value as IEnumerable;
            if (list != null)
            {
                builder.Append('[');
                bool first = true;
                foreach (object item in list)
                {
                    if (!first) builder.Append(',');
                    first = false;
                    WriteValue(builder, item);
                }
                builder.Append(']');
                return;
            }
            throw new ArgumentException("Json.Serialize cannot write a " + value.GetType().FullName + ".");
        }

        static void WriteString(StringBuilder builder, string text)
        {
            builder.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': builder.Append("\\\""); break;
                    case '\\': builder.Append("\\\\"); break;
                    case '\b': builder.Append("\\b"); break;
                    case '\f': builder.Append("\\f"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\r': builder.Append("\\r"); break;
                    case '\t': builder.Append("\\t"); break;
                    default:
                        if (c < ' ') builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else builder.Append(c);
                        break;
                }
            }
            builder.Append('"');
        }

        // ---------------------------------------------------------------- reader

        sealed class Parser
        {
            readonly string _text;
            int _pos;

            public Parser(string text) { _text = text; }

            public int Position { get { return _pos; } }
            public bool AtEnd { get { return _pos >= _text.Length; } }

            public void SkipWhitespace()
            {
                while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
            }

            public object ReadValue()
            {
                SkipWhitespace();
                if (AtEnd) throw Error("Unexpected end of JSON.");
                char c = _text[_pos];
                switch (c)
                {
                    case '{': return ReadObject();
                    case '[': return ReadArray();
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                        throw Error("Unexpected character '" + c + "'.");
                }
            }

            Dictionary<string, object> ReadObject()
            {
                var result = new Dictionary<string, object>();
                _pos++; // {
                SkipWhitespace();
                if (Peek() == '}') { _pos++; return result; }
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() != '"') throw Error("Expected a property name.");
                    string key = ReadString();
                    SkipWhitespace();
                    if (Peek() != ':') throw Error("Expected ':'.");
                    _pos++;
                    result[key] = ReadValue();
                    SkipWhitespace();
                    char next = Peek();
                    _pos++;
                    if (next == ',') continue;
                    if (next == '}') return result;
                    throw Error("Expected ',' or '}'.");
                }
            }

            List<object> ReadArray()
            {
                var result = new List<object>();
                _pos++; // [
                SkipWhitespace();
                if (Peek() == ']') { _pos++; return result; }
                while (true)
                {
                    result.Add(ReadValue());
                    SkipWhitespace();
                    char next = Peek();
                    _pos++;
                    if (next == ',') continue;
                    if (next == ']') return result;
                    throw Error("Expected ',' or ']'.");
                }
            }

            string ReadString()
            {
                _pos++; // opening quote
                var builder = new StringBuilder();
                while (true)
                {
                    if (AtEnd) throw Error("Unterminated string.");
                    char c = _text[_pos++];
                    if (c == '"') return builder.ToString();
                    if (c != '\\') { builder.Append(c); continue; }
                    if (AtEnd) throw Error("Unterminated escape.");
                    char escaped = _text[_pos++];
                    switch (escaped)
                    {
                        case '"': builder.Append('"'); break;
                        case '\\': builder.Append('\\'); break;
                        case '/': builder.Append('/'); break;
                        case 'b': builder.Append('\b'); break;
                        case 'f': builder.Append('\f'); break;
                        case 'n': builder.Append('\n'); break;
                        case 'r': builder.Append('\r'); break;
                        case 't': builder.Append('\t'); break;
                        case 'u':
                            if (_pos + 4 > _text.Length) throw Error("Short \\u escape.");
                            builder.Append((char)int.Parse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            _pos += 4;
                            break;
                        default: throw Error("Unknown escape '\\" + escaped + "'.");
                    }
                }
            }

            object ReadNumber()
            {
                int start = _pos;
                bool fraction = false;
                while (_pos < _text.Length)
                {
                    char c = _text[_pos];
                    if (c == '.' || c == 'e' || c == 'E') fraction = true;
                    else if (!(c == '-' || c == '+' || (c >= '0' && c <= '9'))) break;
                    _pos++;
                }
                string token = _text.Substring(start, _pos - start);
                long integer;
                if (!fraction && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out integer)) return integer;
                double real;
                if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out real)) return real;
                throw Error("Bad number '" + token + "'.");
            }

            void Expect(string literal)
            {
                if (string.CompareOrdinal(_text, _pos, literal, 0, literal.Length) != 0) throw Error("Expected '" + literal + "'.");
                _pos += literal.Length;
            }

            char Peek()
            {
                if (AtEnd) throw Error("Unexpected end of JSON.");
                return _text[_pos];
            }

            FormatException Error(string message)
            {
                return new FormatException(message + " (at " + _pos + ")");
            }
        }
    }
}
