using System.Globalization;
using System.Text;
using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>A text holds a symbol that the vocabulary lacks.</summary>
public sealed class UnknownSymbolException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="symbol"/> found at character offset <paramref name="offset"/>.</summary>
    public UnknownSymbolException(Rune symbol, long offset, string? context = null)
        : base($"{context ?? "text"}: character {Vocabulary.Describe(symbol)} at offset {offset} is not in the vocabulary.")
    {
        Symbol = symbol;
        Offset = offset;
    }

    /// <summary>The symbol that is not in the vocabulary.</summary>
    public Rune Symbol { get; }

    /// <summary>Its offset in the text, in UTF-16 code units.</summary>
    public long Offset { get; }
}

/// <summary>
/// The symbols of a character-level model: distinct Unicode scalar values (<see cref="Rune"/>s,
/// so characters outside the Basic Multilingual Plane are one symbol), sorted by code point so
/// that the same text always gives the same ids.
/// </summary>
public sealed class Vocabulary
{
    private readonly Rune[] _symbols;
    private readonly Dictionary<int, int> _index;

    /// <summary>A vocabulary of the given symbols, deduplicated and sorted by code point.</summary>
    /// <param name="symbols">The symbols, in any order, repeats allowed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="symbols"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no symbols.</exception>
    public Vocabulary(IEnumerable<Rune> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        _symbols = symbols.Distinct().OrderBy(r => r.Value).ToArray();
        if (_symbols.Length == 0)
            throw new ArgumentException("Vocabulary: at least one symbol is needed.", nameof(symbols));
        _index = new Dictionary<int, int>(_symbols.Length);
        for (int i = 0; i < _symbols.Length; i++) _index.Add(_symbols[i].Value, i);
    }

    /// <summary>The vocabulary of every distinct symbol in <paramref name="text"/>.</summary>
    /// <param name="text">Any text with at least one character.</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException">The text is empty or holds an unpaired surrogate.</exception>
    public static Vocabulary FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var seen = new HashSet<Rune>();
        foreach (var rune in EnumerateStrict(text, "Vocabulary.FromText")) seen.Add(rune);
        return new Vocabulary(seen);
    }

    /// <summary>
    /// The inverse of <see cref="Symbols"/>: a vocabulary from its symbols written one after the
    /// other in code-point order, each exactly once.
    /// </summary>
    /// <param name="symbols">What <see cref="Symbols"/> returned.</param>
    /// <exception cref="ArgumentNullException"><paramref name="symbols"/> is null.</exception>
    /// <exception cref="ArgumentException">The string is empty, unsorted, repeats a symbol or holds an unpaired surrogate.</exception>
    public static Vocabulary FromSymbols(string symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        var runes = EnumerateStrict(symbols, "Vocabulary.FromSymbols").ToList();
        for (int i = 1; i < runes.Count; i++)
            if (runes[i].Value <= runes[i - 1].Value)
                throw new ArgumentException($"Vocabulary.FromSymbols: symbols must be distinct and in code-point order, but {Describe(runes[i])} follows {Describe(runes[i - 1])}.", nameof(symbols));
        return new Vocabulary(runes);
    }

    /// <summary>The number of symbols (the model's input and output size).</summary>
    public int Count => _symbols.Length;

    /// <summary>The symbol with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in [0, Count).</exception>
    public Rune this[int id]
        => (uint)id < (uint)_symbols.Length
            ? _symbols[id]
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Vocabulary: id must be in [0, {_symbols.Length}).");

    /// <summary>All symbols in id order, concatenated (round-trips through <see cref="FromSymbols"/>).</summary>
    public string Symbols
    {
        get
        {
            var sb = new StringBuilder();
            foreach (var r in _symbols) sb.Append(r.ToString());
            return sb.ToString();
        }
    }

    /// <summary>Whether <paramref name="symbol"/> has an id.</summary>
    /// <param name="symbol">A Unicode scalar value.</param>
    public bool Contains(Rune symbol) => _index.ContainsKey(symbol.Value);

    /// <summary>The id of <paramref name="symbol"/>, if it has one.</summary>
    /// <param name="symbol">A Unicode scalar value.</param>
    /// <param name="id">Its id in [0, Count), when the result is true.</param>
    /// <returns>Whether the symbol is in the vocabulary.</returns>
    public bool TryGetId(Rune symbol, out int id) => _index.TryGetValue(symbol.Value, out id);

    /// <summary>The ids of the symbols of <paramref name="text"/>, in order.</summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="context">What the text is (e.g. a file name), for the error message.</param>
    /// <returns>One id per Unicode scalar value (a surrogate pair is one symbol).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="UnknownSymbolException">A symbol of the text is not in the vocabulary.</exception>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate.</exception>
    public int[] Encode(string text, string? context = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length);
        int offset = 0;
        foreach (var rune in EnumerateStrict(text, context ?? "Vocabulary.Encode"))
        {
            if (!_index.TryGetValue(rune.Value, out int id))
                throw new UnknownSymbolException(rune, offset, context);
            ids.Add(id);
            offset += rune.Utf16SequenceLength;
        }
        return ids.ToArray();
    }

    /// <summary>The text of a sequence of ids.</summary>
    /// <param name="ids">Ids in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in [0, Count).</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids) sb.Append(this[id].ToString());
        return sb.ToString();
    }

    /// <summary>A readable name for a symbol in messages, e.g. <c>'a' (U+0061)</c> or <c>U+000A</c>.</summary>
    /// <param name="symbol">Any Unicode scalar value; control, format, separator and private-use characters are shown by code point only.</param>
    public static string Describe(Rune symbol)
    {
        string code = "U+" + symbol.Value.ToString("X4", CultureInfo.InvariantCulture);
        var category = Rune.GetUnicodeCategory(symbol);
        bool printable = category is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator or UnicodeCategory.PrivateUse);
        return printable ? $"'{symbol}' ({code})" : code;
    }

    private static IEnumerable<Rune> EnumerateStrict(string text, string context)
    {
        int i = 0;
        while (i < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
                throw new ArgumentException($"{context}: unpaired surrogate at offset {i}; the text is not valid Unicode.");
            yield return rune;
            i += consumed;
        }
    }
}
