using System.Numerics;

namespace Autograd.Nn.Reference;

/// <summary>
/// Hand-derived reference for one recurrent layer the seed's way (seed.md section 3): one node per
/// time step, state carried across calls, weight gradients accumulated over steps. Plain arrays, no autodiff.
/// </summary>
/// <remarks>
/// Each <see cref="Forward(ReadOnlySpan{T}, int, int, int[])"/> starts from <see cref="StartH"/> (and
/// <see cref="StartC"/>) repeated over the batch and afterwards stores the batch mean of the final
/// state there (treated as a constant: no gradient flows into it). Input (B, T, F), output (B, T, O).
/// With per-sequence lengths (PyTorch's packed sequences), a row that has ended at step t keeps its state,
/// outputs zero, and in backward passes its state gradient around the node untouched while the node sees
/// zero gradients for that row (so it adds nothing to the weights).
/// </remarks>
public sealed class ReferenceLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private object[] _nodes = [];
    private int _batch, _time;
    private int[]? _lengths;

    /// <summary>A layer with zero parameters and zero carried state; set weights through <see cref="Parameters"/>.</summary>
    /// <param name="kind">The cell.</param>
    /// <param name="inputSize">F. Explicit (not lazy as in the seed) so that weights can be loaded before the first pass.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="outputSize">O.</param>
    /// <param name="gruResetAfter">GRU only: apply the reset gate after the hidden matmul (PyTorch/cuDNN form); see <see cref="GruNode{T}"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="gruResetAfter"/> is set for a non-GRU layer.</exception>
    public ReferenceLayer(ReferenceCellKind kind, int inputSize, int hiddenSize, int outputSize, bool gruResetAfter = false)
    {
        if (gruResetAfter && kind != ReferenceCellKind.Gru)
            throw new ArgumentException($"ReferenceLayer: gruResetAfter applies only to GRU layers, not {kind}.", nameof(gruResetAfter));
        Parameters = new ReferenceParameters<T>(kind, inputSize, hiddenSize, outputSize);
        GruResetAfter = gruResetAfter;
        StartH = new T[hiddenSize];
        StartC = kind == ReferenceCellKind.Lstm ? new T[hiddenSize] : null;
    }

    /// <summary>The cell.</summary>
    public ReferenceCellKind Kind => Parameters.Kind;

    /// <summary>F.</summary>
    public int InputSize => Parameters.InputSize;

    /// <summary>H.</summary>
    public int HiddenSize => Parameters.HiddenSize;

    /// <summary>O.</summary>
    public int OutputSize => Parameters.OutputSize;

    /// <summary>GRU only: whether the reset gate is applied after the hidden matmul.</summary>
    public bool GruResetAfter { get; }

    /// <summary>The layer's parameters and gradient accumulators, keyed by the api.md names.</summary>
    public ReferenceParameters<T> Parameters { get; }

    /// <summary>The carried hidden state <c>start_H</c> (1, H); live, writable.</summary>
    public T[] StartH { get; }

    /// <summary>The carried cell state <c>start_C</c> (1, H) of an LSTM layer; null for RNN and GRU.</summary>
    public T[]? StartC { get; }

    /// <summary>Sets the carried state to zeros, as in a fresh layer.</summary>
    public void ResetState()
    {
        Array.Clear(StartH);
        if (StartC is not null) Array.Clear(StartC);
    }

    /// <summary>Runs every time step and then stores the batch mean of the final state as the next start state.</summary>
    /// <param name="input">(B, T, F) row-major.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="lengths">Per-sequence lengths in 1..T (row b runs steps 0..lengths[b]-1), or null for all T.</param>
    /// <returns>The stacked step outputs, (B, T, O) row-major; zero past each length.</returns>
    /// <exception cref="ArgumentException">The input's length is not B·T·F, B or T is not positive, or a bad length.</exception>
    public T[] Forward(ReadOnlySpan<T> input, int batch, int time, int[]? lengths = null)
    {
        int f = InputSize, h = HiddenSize, o = OutputSize;
        if (batch <= 0 || time <= 0)
            throw new ArgumentException($"ReferenceLayer.Forward: batch ({batch}) and time ({time}) must be positive.");
        ReferenceMath.CheckLength(input.Length, batch * time * f, "ReferenceLayer.Forward", nameof(input), $"({batch}, {time}, {f})");
        if (lengths is not null && (lengths.Length != batch || lengths.Any(n => n < 1 || n > time)))
            throw new ArgumentException($"ReferenceLayer.Forward: lengths [{string.Join(", ", lengths)}] must be {batch} values in 1..{time}.", nameof(lengths));

        var hState = Repeat(StartH, batch);
        var cState = StartC is null ? null : Repeat(StartC, batch);
        var output = new T[batch * time * o];
        var nodes = new object[time];
        var x = new T[batch * f];
        for (int t = 0; t < time; t++)
        {
            Gather(input, x, batch, time, t, f);
            var (hPrev, cPrev) = (hState, cState);
            T[] xOut;
            switch (Kind)
            {
                case ReferenceCellKind.Rnn:
                    {
                        var node = new RnnNode<T>(Parameters);
                        (xOut, hState) = node.Forward(x, hState);
                        nodes[t] = node;
                        break;
                    }
                case ReferenceCellKind.Gru:
                    {
                        var node = new GruNode<T>(Parameters, GruResetAfter);
                        (xOut, hState) = node.Forward(x, hState);
                        nodes[t] = node;
                        break;
                    }
                default:
                    {
                        var node = new LstmNode<T>(Parameters);
                        (xOut, hState, cState) = node.Forward(x, hState, cState!);
                        nodes[t] = node;
                        break;
                    }
            }
            // Rows that have ended keep their state and output nothing.
            for (int b = 0; b < batch; b++)
            {
                if (lengths is null || t < lengths[b]) continue;
                Array.Copy(hPrev, b * h, hState, b * h, h);
                if (cState is not null) Array.Copy(cPrev!, b * h, cState, b * h, h);
                Array.Clear(xOut, b * o, o);
            }
            Scatter(xOut, output, batch, time, t, o);
        }

        BatchMean(hState, StartH, batch, h);
        if (StartC is not null) BatchMean(cState!, StartC, batch, h);
        _nodes = nodes;
        _batch = batch;
        _time = time;
        _lengths = lengths?.ToArray();
        return output;
    }

    /// <summary>Back-propagates through the last forward pass, from the last step to the first, adding into the parameter gradients.</summary>
    /// <param name="dOutput">(B, T, O) gradient of the output.</param>
    /// <returns>The input gradient, (B, T, F).</returns>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">The gradient's length is not B·T·O of the last forward pass.</exception>
    public T[] Backward(ReadOnlySpan<T> dOutput)
    {
        if (_nodes.Length == 0)
            throw new InvalidOperationException("ReferenceLayer.Backward: Forward has not run.");
        int f = InputSize, h = HiddenSize, o = OutputSize, batch = _batch, time = _time;
        ReferenceMath.CheckLength(dOutput.Length, batch * time * o, "ReferenceLayer.Backward", nameof(dOutput), $"({batch}, {time}, {o})");

        var dInput = new T[batch * time * f];
        var dH = new T[batch * h];   // nothing reaches the final state from beyond the sequence
        var dC = new T[batch * h];
        var dXOut = new T[batch * o];
        var bypassH = new T[batch * h];
        var bypassC = new T[batch * h];
        for (int t = time - 1; t >= 0; t--)
        {
            Gather(dOutput, dXOut, batch, time, t, o);
            // An ended row's state skipped the node: its gradient goes around it, and the node sees zeros.
            var ended = new bool[batch];
            for (int b = 0; b < batch; b++)
            {
                if (_lengths is null || t < _lengths[b]) continue;
                ended[b] = true;
                Array.Copy(dH, b * h, bypassH, b * h, h);
                Array.Copy(dC, b * h, bypassC, b * h, h);
                Array.Clear(dH, b * h, h);
                Array.Clear(dC, b * h, h);
                Array.Clear(dXOut, b * o, o);
            }
            T[] dx;
            switch (_nodes[t])
            {
                case RnnNode<T> rnn: (dx, dH) = rnn.Backward(dXOut, dH); break;
                case GruNode<T> gru: (dx, dH) = gru.Backward(dXOut, dH); break;
                default: (dx, dH, dC) = ((LstmNode<T>)_nodes[t]).Backward(dXOut, dH, dC); break;
            }
            for (int b = 0; b < batch; b++)
            {
                if (!ended[b]) continue;
                Array.Copy(bypassH, b * h, dH, b * h, h);
                Array.Copy(bypassC, b * h, dC, b * h, h);
            }
            Scatter(dx, dInput, batch, time, t, f);
        }
        return dInput;
    }

    /// <summary><see cref="Forward(ReadOnlySpan{T}, int, int, int[])"/> on a (B, T, F) tensor, used only as a container.</summary>
    /// <param name="input">(batch, time, F); no graph is recorded.</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <returns>(batch, time, O).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor is not (B, T, F), or a bad length.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != InputSize)
            throw new ArgumentException($"ReferenceLayer.Forward: input must be (batch, time, {InputSize}) but is {Format(input.Shape)}.", nameof(input));
        return Tensor.FromArray(Forward(input.AsSpan(), input.Shape[0], input.Shape[1], lengths), input.Shape[0], input.Shape[1], OutputSize);
    }

    /// <summary><see cref="Backward(ReadOnlySpan{T})"/> on a (B, T, O) tensor, used only as a container.</summary>
    /// <param name="dOutput">The loss gradient with respect to the last forward's output, (batch, time, O).</param>
    /// <returns>The gradient with respect to the input, (batch, time, F); parameter gradients accumulate in the parameters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="dOutput"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">The tensor is not the last output's shape.</exception>
    public Tensor<T> Backward(Tensor<T> dOutput)
    {
        ArgumentNullException.ThrowIfNull(dOutput);
        if (_nodes.Length == 0)
            throw new InvalidOperationException("ReferenceLayer.Backward: Forward has not run.");
        if (dOutput.Rank != 3 || dOutput.Shape[0] != _batch || dOutput.Shape[1] != _time || dOutput.Shape[2] != OutputSize)
            throw new ArgumentException($"ReferenceLayer.Backward: dOutput must be ({_batch}, {_time}, {OutputSize}) but is {Format(dOutput.Shape)}.", nameof(dOutput));
        return Tensor.FromArray(Backward(dOutput.AsSpan()), _batch, _time, InputSize);
    }

    private static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    private static T[] Repeat(T[] row, int batch)
    {
        var r = new T[batch * row.Length];
        for (int b = 0; b < batch; b++) row.CopyTo(r, b * row.Length);
        return r;
    }

    private static void BatchMean(T[] state, T[] mean, int batch, int h)
    {
        Array.Clear(mean);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < h; j++) mean[j] += state[b * h + j];
        T n = T.CreateChecked(batch);
        for (int j = 0; j < h; j++) mean[j] /= n;
    }

    /// <summary>dst (B, w) = src[:, t, :] of a (B, T, w) array.</summary>
    private static void Gather(ReadOnlySpan<T> src, T[] dst, int batch, int time, int t, int w)
    {
        for (int b = 0; b < batch; b++) src.Slice((b * time + t) * w, w).CopyTo(dst.AsSpan(b * w, w));
    }

    /// <summary>dst[:, t, :] of a (B, T, w) array = src (B, w).</summary>
    private static void Scatter(T[] src, T[] dst, int batch, int time, int t, int w)
    {
        for (int b = 0; b < batch; b++) src.AsSpan(b * w, w).CopyTo(dst.AsSpan((b * time + t) * w, w));
    }
}
