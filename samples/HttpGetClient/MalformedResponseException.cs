namespace HttpGetClient;

/// <summary>Thrown when the server's answer is not a well-formed HTTP/1.x response.</summary>
internal sealed class MalformedResponseException : Exception
{
    /// <summary>Creates the exception with what was wrong with the response.</summary>
    public MalformedResponseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with what was wrong with the response and the error that revealed it.</summary>
    public MalformedResponseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public MalformedResponseException()
        : base("malformed response")
    {
    }
}
