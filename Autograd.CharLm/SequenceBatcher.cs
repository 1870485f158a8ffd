using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>
/// Contiguous batches for truncated back-propagation through time: the sequence is cut into
/// <see cref="BatchSize"/> equal streams, and batch <c>k</c> of an epoch holds, for every stream
/// <c>b</c>, the <see cref="SequenceLength"/> symbols that follow batch <c>k - 1</c>'s in that
/// stream. Row <c>b</c> of consecutive batches is therefore consecutive text, so a layer that
/// carries its state per sequence (<c>CarryMode.PerSequence</c>) sees each stream as one
/// long sequence.
/// </summary>
/// <remarks>
/// Inputs and targets are row-major <c>(BatchSize, SequenceLength)</c>; targets are the inputs
/// shifted by one symbol. After <see cref="BatchesPerEpoch"/> batches the streams start again
/// (the trainer should reset carried state then). The position is a single step counter, so a
/// run can be resumed exactly with <see cref="Seek"/>.
/// </remarks>
public sealed class SequenceBatcher
{
    private readonly int[] _data;
    private readonly int _streamLength;

    /// <summary>Creates a batcher over <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Batch size or sequence length is not positive.</exception>
    /// <exception cref="ArgumentException">The data is too short for even one batch: it needs <c>batchSize × sequenceLength + 1</c> symbols.</exception>
    public SequenceBatcher(int[] data, int batchSize, int sequenceLength)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequenceLength);
        long needed = MinimumLength(batchSize, sequenceLength);
        if (data.Length < needed)
            throw new ArgumentException($"SequenceBatcher: {data.Length} symbols are too few for batch size {batchSize} and sequence length {sequenceLength} (need at least {needed}).", nameof(data));
        _data = data;
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        // The last target of a stream is the symbol after its last input, hence the - 1.
        _streamLength = (data.Length - 1) / batchSize;
        BatchesPerEpoch = _streamLength / sequenceLength;
    }

    /// <summary>The fewest symbols that give one batch: <c>batchSize × sequenceLength + 1</c>.</summary>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="sequenceLength">Time steps per batch.</param>
    public static long MinimumLength(int batchSize, int sequenceLength) => (long)batchSize * sequenceLength + 1;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Time steps per batch.</summary>
    public int SequenceLength { get; }

    /// <summary>Batches before the streams start over.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Batches handed out so far (across epochs).</summary>
    public long Position { get; private set; }

    /// <summary>Whether the next batch starts an epoch (the streams begin again).</summary>
    public bool AtEpochStart => Position % BatchesPerEpoch == 0;

    /// <summary>Moves to the given batch count, as if <see cref="Next(Span{int}, Span{int})"/> had been called that often.</summary>
    /// <param name="position">Batches handed out so far (e.g. <see cref="TrainingState.BatchPosition"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The position is negative.</exception>
    public void Seek(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Position = position;
    }

    /// <summary>Fills the next batch and advances.</summary>
    /// <param name="inputs">Receives <c>BatchSize × SequenceLength</c> input ids, row-major.</param>
    /// <param name="targets">Receives the ids that follow each input.</param>
    /// <returns>Whether this batch starts an epoch (carried state should be reset before it).</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public bool Next(Span<int> inputs, Span<int> targets) => Next(inputs, targets, 0, BatchSize);

    /// <summary>
    /// Fills rows <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rows"/> - 1
    /// of the next batch and advances: one rank's share of the global batch in data-parallel training,
    /// where every rank reads its own streams.
    /// </summary>
    /// <param name="inputs">Receives <c>rows × SequenceLength</c> input ids, row-major.</param>
    /// <param name="targets">Receives the ids that follow each input.</param>
    /// <param name="firstRow">The first stream to read.</param>
    /// <param name="rows">How many streams to read.</param>
    /// <returns>Whether this batch starts an epoch (carried state should be reset before it).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not within <c>[0, BatchSize)</c>, or none.</exception>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public bool Next(Span<int> inputs, Span<int> targets, int firstRow, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, BatchSize - firstRow);
        int n = rows * SequenceLength;
        if (inputs.Length != n || targets.Length != n)
            throw new ArgumentException($"SequenceBatcher.Next: inputs and targets need {n} elements each ({rows} × {SequenceLength}), got {inputs.Length} and {targets.Length}.");
        bool epochStart = AtEpochStart;
        int k = (int)(Position % BatchesPerEpoch);
        for (int r = 0; r < rows; r++)
        {
            int start = (firstRow + r) * _streamLength + k * SequenceLength;
            _data.AsSpan(start, SequenceLength).CopyTo(inputs.Slice(r * SequenceLength, SequenceLength));
            _data.AsSpan(start + 1, SequenceLength).CopyTo(targets.Slice(r * SequenceLength, SequenceLength));
        }
        Position++;
        return epochStart;
    }
}
