namespace Autograd.Distributed;

/// <summary>An MPI call returned an error code.</summary>
public sealed class MpiException : Exception
{
    /// <summary>An error of <paramref name="call"/>: the message names the call, the code and MPI's text for it.</summary>
    /// <param name="call">The MPI function that failed, e.g. <c>MPI_Allreduce</c>.</param>
    /// <param name="code">The error code it returned (<see cref="Code"/>).</param>
    /// <param name="text">The library's description of <paramref name="code"/> (<c>MPI_Error_string</c>).</param>
    public MpiException(string call, int code, string text) : base($"{call} failed: MPI error {code}: {text}") => Code = code;

    /// <summary>An MPI error with the default message and <see cref="Code"/> 0.</summary>
    public MpiException() { }

    /// <summary>An MPI error with <paramref name="message"/> and <see cref="Code"/> 0.</summary>
    public MpiException(string message) : base(message) { }

    /// <summary>An MPI error with <paramref name="message"/>, caused by <paramref name="inner"/>; <see cref="Code"/> is 0.</summary>
    public MpiException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The MPI error code (0 when the exception was not built from an MPI call's result).</summary>
    public int Code { get; }
}

/// <summary>The MPI library could not be loaded (MPICH is not installed, or <c>AUTOGRAD_MPI_LIBRARY</c> names a missing file).</summary>
public sealed class MpiUnavailableException : Exception
{
    /// <summary>The library could not be loaded, for the reason in <paramref name="message"/>.</summary>
    public MpiUnavailableException(string message) : base(message) { }

    /// <summary>The library could not be loaded (default message).</summary>
    public MpiUnavailableException() { }

    /// <summary>The library could not be loaded, for the reason in <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public MpiUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The ranks of a job were set up differently (configuration, data, model shapes). Found by a
/// collective check, so every rank throws it at the same point.
/// </summary>
public sealed class RankMismatchException : Exception
{
    /// <summary>The ranks differ as <paramref name="message"/> says.</summary>
    public RankMismatchException(string message) : base(message) { }

    /// <summary>The ranks differ (default message).</summary>
    public RankMismatchException() { }

    /// <summary>The ranks differ as <paramref name="message"/> says, found through <paramref name="inner"/>.</summary>
    public RankMismatchException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The ranks' weights are no longer bitwise identical (found by a collective check: thrown on every rank).</summary>
public sealed class ReplicaDivergenceException : Exception
{
    /// <summary>The replicas differ as <paramref name="message"/> says (e.g. which parameters).</summary>
    public ReplicaDivergenceException(string message) : base(message) { }

    /// <summary>The replicas differ (default message).</summary>
    public ReplicaDivergenceException() { }

    /// <summary>The replicas differ as <paramref name="message"/> says, found through <paramref name="inner"/>.</summary>
    public ReplicaDivergenceException(string message, Exception inner) : base(message, inner) { }
}
