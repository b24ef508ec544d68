#
# Varnish in front of Apache (127.0.0.1:8080).
#
vcl 4.1;

# Apache listens on the loopback only.
backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

# Who may purge: the machine itself and the office.
acl purgers {
    "127.0.0.1";
    "192.0.2.0"/24;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed."));
        }
        return (purge);
    }
}

sub vcl_backend_response {
    # Cache static files for an hour.
    if (bereq.url ~ "\.(css|js|png|jpg)$") {
        set beresp.ttl = 1h;
    }
}
