using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>How <see cref="Sampler"/> draws text.</summary>
public sealed record SamplingOptions
{
    /// <summary>Symbols to generate (after the prime).</summary>
    public int Length { get; init; } = 500;

    /// <summary>Logits are divided by this before the softmax: below 1 is more conservative, above 1 more varied.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Draw only among the this many most likely symbols (0: all).</summary>
    public int TopK { get; init; }

    /// <summary>Always take the most likely symbol (ignores temperature, top-k and seed).</summary>
    public bool Greedy { get; init; }

    /// <summary>Text fed to the model first; generation continues it. Empty: start after a line break (or the first symbol).</summary>
    public string Prime { get; init; } = "";

    /// <summary>Seeds the draws: the same model, options and seed give the same text.</summary>
    public int Seed { get; init; }
}

/// <summary>Generates text from a character-level model one symbol at a time.</summary>
public static class Sampler
{
    /// <summary>
    /// The generated symbols (not including the prime), one string per symbol, computed lazily.
    /// The model's carried state is reset first and used as the generation runs; use a copy
    /// (<see cref="CharLanguageModel.Clone"/>) to leave a model in training undisturbed.
    /// </summary>
    /// <param name="model">The model to run (its carried state changes).</param>
    /// <param name="options">Length, temperature, top-k, greedy, prime and seed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative length or top-k, or a temperature that is not positive and finite.</exception>
    /// <exception cref="UnknownSymbolException">The prime holds a symbol the vocabulary lacks.</exception>
    public static IEnumerable<string> Generate(CharLanguageModel model, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(options.TopK);
        if (!(options.Temperature > 0 && double.IsFinite(options.Temperature)))
            throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "Sampler: the temperature must be positive and finite.");
        int[] prime = model.Vocabulary.Encode(options.Prime ?? "", "prime");
        if (prime.Length == 0)
            prime = [model.Vocabulary.TryGetId(new System.Text.Rune('\n'), out int newline) ? newline : 0];
        return Run(model, options, prime);
    }

    /// <summary>The generated text, as one string (see <see cref="Generate"/>).</summary>
    /// <param name="model">The model to run (its carried state changes).</param>
    /// <param name="options">Length, temperature, top-k, greedy, prime and seed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative length or top-k, or a temperature that is not positive and finite.</exception>
    /// <exception cref="UnknownSymbolException">The prime holds a symbol the vocabulary lacks.</exception>
    public static string Sample(CharLanguageModel model, SamplingOptions options) => string.Concat(Generate(model, options));

    private static IEnumerable<string> Run(CharLanguageModel model, SamplingOptions options, int[] prime)
    {
        var network = model.Network;
        network.Eval();
        network.ResetState();
        var random = new Random(options.Seed);
        int vocabulary = model.Vocabulary.Count;
        var probabilities = new double[vocabulary];
        float[] logits = LastLogits(model, prime);
        for (int i = 0; i < options.Length; i++)
        {
            int next = options.Greedy ? ArgMax(logits) : Draw(logits, options.Temperature, options.TopK, random, probabilities);
            yield return model.Vocabulary[next].ToString();
            if (i + 1 < options.Length) logits = LastLogits(model, [next]);
        }
    }

    private static float[] LastLogits(CharLanguageModel model, int[] ids)
    {
        using var _ = Tensor.NoGrad();
        var all = model.Forward(ids, 1, ids.Length).AsSpan();
        int v = model.Vocabulary.Count;
        return all[^v..].ToArray();
    }

    private static int ArgMax(float[] logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static int Draw(float[] logits, double temperature, int topK, Random random, double[] p)
    {
        double cutoff = double.NegativeInfinity;
        if (topK > 0 && topK < logits.Length)
        {
            var sorted = logits.ToArray();
            Array.Sort(sorted);
            cutoff = sorted[^topK]; // the k-th largest; ties with it are kept too
        }
        double max = double.NegativeInfinity;
        foreach (float l in logits) if (l >= cutoff) max = Math.Max(max, l);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            p[i] = logits[i] >= cutoff ? Math.Exp((logits[i] - max) / temperature) : 0;
            sum += p[i];
        }
        double r = random.NextDouble() * sum;
        int last = 0;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == 0) continue;
            last = i;
            r -= p[i];
            if (r < 0) return i;
        }
        return last; // rounding left r ≥ 0: take the last candidate
    }
}
