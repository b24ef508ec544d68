vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

# Who may purge: the machine itself, the office (kept in its own file), a partner.
acl purgers {
    include "purgers-office.vcl";
    "198.51.100.7";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed."));
        }
        return (purge);
    }
}
