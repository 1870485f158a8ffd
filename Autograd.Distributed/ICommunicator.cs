using System.Runtime.InteropServices;

namespace Autograd.Distributed;

/// <summary>How <see cref="ICommunicator"/> reductions combine the ranks' values, element by element.</summary>
public enum ReduceOperation
{
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>The largest value.</summary>
    Max,
    /// <summary>The smallest value.</summary>
    Min,
}

/// <summary>
/// A group of processes ("ranks") that take part in collective operations together: every rank
/// must make the same calls, in the same order, with equal lengths, or the job hangs or fails.
/// </summary>
/// <remarks>Calls may come from any thread, but only one at a time.</remarks>
public interface ICommunicator
{
    /// <summary>This process's index in the group, 0 to <see cref="Size"/> - 1.</summary>
    int Rank { get; }

    /// <summary>The number of processes in the group.</summary>
    int Size { get; }

    /// <summary>
    /// Replaces <paramref name="values"/> on every rank by the element-wise reduction over all ranks, in
    /// place. Every rank passes the same length (any, 0 included) and the same <paramref name="operation"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="operation"/> is not a <see cref="ReduceOperation"/> value.</exception>
    /// <exception cref="ObjectDisposedException">The communicator was disposed (MPI finalized).</exception>
    /// <exception cref="MpiException">The MPI library reported an error.</exception>
    void AllReduce(Span<float> values, ReduceOperation operation);

    /// <inheritdoc cref="AllReduce(Span{float}, ReduceOperation)"/>
    void AllReduce(Span<double> values, ReduceOperation operation);

    /// <inheritdoc cref="AllReduce(Span{float}, ReduceOperation)"/>
    void AllReduce(Span<long> values, ReduceOperation operation);

    /// <inheritdoc cref="AllReduce(Span{float}, ReduceOperation)"/>
    void AllReduce(Span<ulong> values, ReduceOperation operation);

    /// <summary>
    /// Copies <paramref name="data"/> from rank <paramref name="root"/> over every other rank's
    /// <paramref name="data"/>, in place; every rank passes the same length and root.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank (0 to <see cref="Size"/> - 1).</exception>
    /// <exception cref="ObjectDisposedException">The communicator was disposed (MPI finalized).</exception>
    /// <exception cref="MpiException">The MPI library reported an error.</exception>
    void Broadcast(Span<byte> data, int root);
}

/// <summary>Collective helpers built on <see cref="ICommunicator"/>'s primitives.</summary>
public static class CommunicatorExtensions
{
    /// <summary>Broadcasts unmanaged values from <paramref name="root"/> (bit for bit): <see cref="ICommunicator.Broadcast"/> of their bytes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="communicator"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="root"/> is not a rank.</exception>
    public static void Broadcast<T>(this ICommunicator communicator, Span<T> data, int root = 0) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(communicator);
        communicator.Broadcast(MemoryMarshal.AsBytes(data), root);
    }

    /// <summary>The sum of <paramref name="value"/> over all ranks (the same on every rank).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="communicator"/> is null.</exception>
    public static double AllReduceSum(this ICommunicator communicator, double value)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        communicator.AllReduce(new Span<double>(ref value), ReduceOperation.Sum);
        return value;
    }

    /// <summary>
    /// For each element, whether every rank passed the same value (e.g. a hash of its
    /// configuration): compares the maximum with the minimum, in one reduction.
    /// </summary>
    /// <returns>One flag per element of <paramref name="values"/>, the same on every rank.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="communicator"/> is null.</exception>
    public static bool[] AllSame(this ICommunicator communicator, ReadOnlySpan<ulong> values)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        // max(~v) = ~min(v): the maximum of the values and of their complements in one call.
        var buffer = new ulong[2 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            buffer[i] = values[i];
            buffer[values.Length + i] = ~values[i];
        }
        communicator.AllReduce(buffer, ReduceOperation.Max);
        var same = new bool[values.Length];
        for (int i = 0; i < values.Length; i++) same[i] = buffer[i] == ~buffer[values.Length + i];
        return same;
    }
}
