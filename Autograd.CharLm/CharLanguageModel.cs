using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>
/// A character-level language model: a <see cref="Vocabulary"/>, a <see cref="CharModelConfig"/>
/// and the recurrent network built from them. Input ids <c>(batch, time)</c> go in as one-hot rows
/// (by row lookup, <see cref="RnnModel{T}.ForwardOneHot(int[], int, int, int)"/>); logits <c>(batch, time, vocabulary)</c> come out.
/// </summary>
public sealed class CharLanguageModel
{
    /// <summary>Builds a freshly initialized model.</summary>
    /// <param name="vocabulary">The symbols.</param>
    /// <param name="config">The network shape.</param>
    /// <param name="seed">Seeds weight initialization and dropout.</param>
    /// <exception cref="ArgumentNullException"><paramref name="vocabulary"/> or <paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The configuration is invalid.</exception>
    public CharLanguageModel(Vocabulary vocabulary, CharModelConfig config, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(config);
        Vocabulary = vocabulary;
        Config = config;
        Seed = seed;
        Network = config.Build(vocabulary.Count, seed, CarryMode.PerSequence);
    }

    /// <summary>The symbols; their count is the network's input and output size.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The network shape.</summary>
    public CharModelConfig Config { get; }

    /// <summary>The seed the weights were initialized from.</summary>
    public int Seed { get; }

    /// <summary>The network; its layers carry state per sequence (<see cref="CarryMode.PerSequence"/>).</summary>
    public RnnModel<float> Network { get; }

    /// <summary>The logits for a batch of ids: <c>(batch, time, Vocabulary.Count)</c>.</summary>
    /// <param name="ids">Row-major <c>(batch, time)</c> symbol ids.</param>
    /// <param name="batch">Sequences in the batch.</param>
    /// <param name="time">Time steps per sequence.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">The ids do not fill <c>batch × time</c>, or an id is out of range.</exception>
    public Tensor<float> Forward(int[] ids, int batch, int time)
        => Network.ForwardOneHot(ids, batch, time, Vocabulary.Count);

    /// <summary>
    /// A separate model with the same vocabulary, configuration and weights (copied), e.g. to
    /// evaluate or sample without disturbing the carried state of a model in training.
    /// </summary>
    public CharLanguageModel Clone()
    {
        var copy = new CharLanguageModel(Vocabulary, Config, Seed);
        copy.CopyWeightsFrom(this);
        return copy;
    }

    /// <summary>Copies the weights of a model of the same shape into this one.</summary>
    /// <param name="other">A model with the same vocabulary size and configuration.</param>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public void CopyWeightsFrom(CharLanguageModel other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Network.LoadStateDict(other.Network.StateDict());
    }
}
