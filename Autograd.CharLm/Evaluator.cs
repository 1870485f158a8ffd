using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>The mean negative log-likelihood of a text under a model.</summary>
/// <param name="NatsPerSymbol">Mean cross-entropy in nats per predicted symbol.</param>
/// <param name="Symbols">How many symbols were predicted (each from the ones before it).</param>
public readonly record struct EvaluationResult(double NatsPerSymbol, long Symbols)
{
    /// <summary>The same loss in bits per symbol (nats / ln 2).</summary>
    public double BitsPerSymbol => NatsPerSymbol / Math.Log(2);
}

/// <summary>Measures a character-level model's loss on held-out text.</summary>
public static class Evaluator
{
    /// <summary>
    /// The mean cross-entropy of predicting each symbol of <paramref name="ids"/> from the ones
    /// before it. The text is cut into <paramref name="streams"/> equal contiguous streams that run
    /// side by side as one batch, in chunks of <paramref name="chunkLength"/> steps with the state
    /// carried across chunks, so every prediction but the first few of each stream sees long context.
    /// Up to <c>streams - 1</c> trailing symbols that do not fill the streams are left out;
    /// <see cref="EvaluationResult.Symbols"/> says how many were scored.
    /// </summary>
    /// <remarks>
    /// Nothing is recorded for backward. The model's carried state is reset before and after, and
    /// its training/evaluation mode is restored; use a copy (<see cref="CharLanguageModel.Clone"/>)
    /// to leave a model in training undisturbed.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">Fewer than 2 symbols.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive stream count or chunk length, or an id outside the vocabulary.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static EvaluationResult Evaluate(CharLanguageModel model, int[] ids, int streams = 32, int chunkLength = 128, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkLength);
        if (ids.Length < 2)
            throw new ArgumentException($"Evaluator.Evaluate: {ids.Length} symbol(s) give nothing to predict; at least 2 are needed.", nameof(ids));
        int vocabulary = model.Vocabulary.Count;
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabulary)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Evaluator.Evaluate: ids must be in [0, {vocabulary}).");

        int b = Math.Min(streams, ids.Length - 1);
        int streamLength = (ids.Length - 1) / b;
        var network = model.Network;
        bool wasTraining = network.Training;
        network.Eval();
        network.ResetState();
        double total = 0;
        try
        {
            using var _ = Tensor.NoGrad();
            for (int start = 0; start < streamLength; start += chunkLength)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int t = Math.Min(chunkLength, streamLength - start);
                var x = new int[b * t];
                var y = new int[b * t];
                for (int row = 0; row < b; row++)
                {
                    int from = row * streamLength + start;
                    ids.AsSpan(from, t).CopyTo(x.AsSpan(row * t, t));
                    ids.AsSpan(from + 1, t).CopyTo(y.AsSpan(row * t, t));
                }
                var loss = Losses.CrossEntropy(model.Forward(x, b, t), y);
                total += double.CreateChecked(loss.Item()) * (b * t);
            }
        }
        finally
        {
            network.ResetState();
            network.Train(wasTraining);
        }
        long symbols = (long)b * streamLength;
        return new EvaluationResult(total / symbols, symbols);
    }
}
