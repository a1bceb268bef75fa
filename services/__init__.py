"""The three backends behind the API: the ECS service, the EC2 web app and the docs bucket."""
