namespace Autograd.Distributed;

/// <summary>An MPI call returned an error code.</summary>
public sealed class MpiException : Exception
{
    public MpiException(string call, int code, string text) : base($"{call} failed: MPI error {code}: {text}") => Code = code;
    public MpiException() { }
    public MpiException(string message) : base(message) { }
    public MpiException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The MPI error code.</summary>
    public int Code { get; }
}

/// <summary>The MPI library could not be loaded (MPICH is not installed, or <c>AUTOGRAD_MPI_LIBRARY</c> names a missing file).</summary>
public sealed class MpiUnavailableException : Exception
{
    public MpiUnavailableException(string message) : base(message) { }
    public MpiUnavailableException() { }
    public MpiUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The ranks of a job were set up differently (configuration, data, model shapes). Found by a
/// collective check, so every rank throws it at the same point.
/// </summary>
public sealed class RankMismatchException : Exception
{
    public RankMismatchException(string message) : base(message) { }
    public RankMismatchException() { }
    public RankMismatchException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The ranks' weights are no longer bitwise identical (found by a collective check: thrown on every rank).</summary>
public sealed class ReplicaDivergenceException : Exception
{
    public ReplicaDivergenceException(string message) : base(message) { }
    public ReplicaDivergenceException() { }
    public ReplicaDivergenceException(string message, Exception inner) : base(message, inner) { }
}
