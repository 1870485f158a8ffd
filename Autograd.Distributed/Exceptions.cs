namespace Autograd.Distributed;

/// <summary>An MPI call returned an error code.</summary>
public sealed class MpiException : Exception
{
    /// <summary>Creates the exception for MPI call <paramref name="call"/> that returned <paramref name="code"/> with error text <paramref name="text"/>.</summary>
    public MpiException(string call, int code, string text) : base($"{call} failed: MPI error {code}: {text}") => Code = code;
    /// <summary>Creates the exception with a default message.</summary>
    public MpiException() { }
    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public MpiException(string message) : base(message) { }
    /// <summary>Creates the exception with <paramref name="message"/> and the exception <paramref name="inner"/> that caused it.</summary>
    public MpiException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The MPI error code.</summary>
    public int Code { get; }
}

/// <summary>The MPI library could not be loaded (MPICH is not installed, or <c>AUTOGRAD_MPI_LIBRARY</c> names a missing file).</summary>
public sealed class MpiUnavailableException : Exception
{
    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public MpiUnavailableException(string message) : base(message) { }
    /// <summary>Creates the exception with a default message.</summary>
    public MpiUnavailableException() { }
    /// <summary>Creates the exception with <paramref name="message"/> and the exception <paramref name="inner"/> that caused it.</summary>
    public MpiUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The ranks of a job were set up differently (configuration, data, model shapes). Found by a
/// collective check, so every rank throws it at the same point.
/// </summary>
public sealed class RankMismatchException : Exception
{
    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public RankMismatchException(string message) : base(message) { }
    /// <summary>Creates the exception with a default message.</summary>
    public RankMismatchException() { }
    /// <summary>Creates the exception with <paramref name="message"/> and the exception <paramref name="inner"/> that caused it.</summary>
    public RankMismatchException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The ranks' weights are no longer bitwise identical (found by a collective check: thrown on every rank).</summary>
public sealed class ReplicaDivergenceException : Exception
{
    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public ReplicaDivergenceException(string message) : base(message) { }
    /// <summary>Creates the exception with a default message.</summary>
    public ReplicaDivergenceException() { }
    /// <summary>Creates the exception with <paramref name="message"/> and the exception <paramref name="inner"/> that caused it.</summary>
    public ReplicaDivergenceException(string message, Exception inner) : base(message, inner) { }
}
