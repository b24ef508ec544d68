#
# Varnish in front of Apache (127.0.0.1:8080).
#
vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

acl purgers {
    "127.0.0.1";
    include office.vcl;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed."));
        }
        return (purge);
    }
}
